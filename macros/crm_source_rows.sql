{#-
    The select of one CRM source in a vendor-neutral union model (models/intermediate/crm/
    int_crm_*_unioned): `columns` from `relation_name`, with `crm_source` after the first
    (the key). Given `crm_source`, the relation is a vendor's staging model and the column is
    that literal; otherwise the relation is a mapping model that carries the column itself.
    Each union model lists its columns once, so its sources cannot drift apart.
-#}
{% macro crm_source_rows(relation_name, columns, crm_source=none) -%}
    select
        {{ columns[0] }},
        {% if crm_source -%}
        '{{ crm_source }}' as crm_source,
        {%- else -%}
        crm_source,
        {%- endif %}
        {%- for column in columns[1:] %}
        {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref(relation_name) }}
{%- endmacro %}
