{#- ISO day of the week of a date: 1 = Monday ... 7 = Sunday. -#}
{% macro iso_day_of_week(date_expression) %}
    {{- return(adapter.dispatch('iso_day_of_week', 'revops')(date_expression)) -}}
{% endmacro %}

{% macro default__iso_day_of_week(date_expression) -%}
    cast(extract(isodow from {{ date_expression }}) as integer)
{%- endmacro %}

{% macro spark__iso_day_of_week(date_expression) -%}
    {#- Spark's dayofweek runs 1 = Sunday ... 7 = Saturday. -#}
    cast(((dayofweek({{ date_expression }}) + 5) % 7) + 1 as integer)
{%- endmacro %}
