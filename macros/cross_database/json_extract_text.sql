{#-
    The value at `json_path` (`$.a.b`, `$[0].coupon.id`) of a JSON text column, as text: a
    scalar as its text, an object or array as JSON text, JSON null or a missing key as null.
    Text that is not JSON gives null rather than an error.
-#}
{% macro json_extract_text(expression, json_path) %}
    {{- return(adapter.dispatch('json_extract_text', 'revops')(expression, json_path)) -}}
{% endmacro %}

{% macro default__json_extract_text(expression, json_path) -%}
    {#- Spark SQL / Databricks, the scale-out target. -#}
    get_json_object({{ expression }}, '{{ json_path }}')
{%- endmacro %}

{% macro duckdb__json_extract_text(expression, json_path) -%}
    case
        when json_valid({{ expression }})
            then json_extract_string({{ expression }}, '{{ json_path }}')
    end
{%- endmacro %}
