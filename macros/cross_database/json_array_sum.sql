{#-
    The sum of the integer `field` over the objects of a JSON array text column
    (`[{"amount": 100}, {"amount": 5}]` -> 105): 0 for an empty array, null when the column is
    null or not JSON.
-#}
{% macro json_array_sum(expression, field) %}
    {{- return(adapter.dispatch('json_array_sum', 'revops')(expression, field)) -}}
{% endmacro %}

{% macro default__json_array_sum(expression, field) -%}
    {#- Spark SQL / Databricks, the scale-out target. -#}
    aggregate(
        from_json({{ expression }}, 'array<struct<{{ field }}: bigint>>'),
        cast(0 as bigint),
        (total, item) -> total + coalesce(item.{{ field }}, 0)
    )
{%- endmacro %}

{% macro duckdb__json_array_sum(expression, field) -%}
    case
        when json_valid({{ expression }})
            then coalesce(
                list_sum(try_cast(json_extract({{ expression }}, '$[*].{{ field }}') as bigint[])),
                0
            )
    end
{%- endmacro %}
