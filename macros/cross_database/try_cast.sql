{#-
    A cast that returns null instead of failing on a value the type cannot hold. Every cast of
    delivered text goes through it; the `cast_failures` test reports each value it nulled.
-#}
{% macro try_cast(expression, data_type) %}
    {{- return(adapter.dispatch('try_cast', 'revops')(expression, data_type)) -}}
{% endmacro %}

{% macro default__try_cast(expression, data_type) -%}
    {#- dbt's safe_cast: `try_cast` on Spark, Snowflake and Databricks, `safe_cast` on BigQuery. -#}
    {{ dbt.safe_cast(expression, data_type) }}
{%- endmacro %}

{% macro duckdb__try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}
