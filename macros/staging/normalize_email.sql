{#- An email as identity matching needs it: white space trimmed, lower case, empty as null. -#}
{% macro normalize_email(expression) -%}
    nullif(lower(trim({{ expression }})), '')
{%- endmacro %}

{#- The domain of an email (the text after the last `@`), normalised like the email. -#}
{% macro email_domain(expression) -%}
    nullif({{ dbt.split_part(revops.normalize_email(expression), "'@'", 2) }}, '')
{%- endmacro %}
