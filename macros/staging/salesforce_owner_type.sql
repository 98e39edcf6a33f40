{#-
    `queue` for a Salesforce owner id of a queue (a Group: key prefix `00G`, e.g. the web-to-lead
    queue), else `user`. Queues own leads and cases, never opportunities in a standard org;
    they are kept and excluded from rep tables only.
-#}
{% macro salesforce_owner_type(owner_id) -%}
    case when {{ owner_id }} like '00G%' then 'queue' else 'user' end
{%- endmacro %}
