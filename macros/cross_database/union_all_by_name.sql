{#-
    `union all` matching the two sides' columns by name where the engine can (DuckDB's
    `union all by name`), by position elsewhere. For unions of a query with a stored table,
    whose column order nothing else checks (`on_schema_change` compares names and types).
-#}
{% macro union_all_by_name() %}
    {{- return(adapter.dispatch('union_all_by_name', 'revops')()) -}}
{% endmacro %}

{% macro default__union_all_by_name() -%}
    union all
{%- endmacro %}

{% macro duckdb__union_all_by_name() -%}
    union all by name
{%- endmacro %}
