{#-
    Exploding nested JSON text into rows. Each macro is a select-list fragment that turns one
    input row into one row per element (a row whose value is null, not JSON, or JSON of another
    type gives no rows):

        select t.id, {{ json_array_elements('t.stages') }} from t
            -> json_index (0-based position), json_element (the element as JSON text)
        select t.id, {{ json_object_entries('t.history') }} from t
            -> json_key, json_value (the value as JSON text; a string's value without quotes)

    The aliases can be renamed. Use one per select (the generators are not nested).
-#}
{% macro json_array_elements(expression, index_alias='json_index', element_alias='json_element') %}
    {{- return(adapter.dispatch('json_array_elements', 'revops')(
        expression, index_alias, element_alias
    )) -}}
{% endmacro %}

{% macro default__json_array_elements(expression, index_alias, element_alias) -%}
    {#- Spark SQL: an array<string> schema keeps each object element as its JSON text. -#}
    posexplode(from_json({{ expression }}, 'array<string>')) as ({{ index_alias }}, {{ element_alias }})
{%- endmacro %}

{% macro duckdb__json_array_elements(expression, index_alias, element_alias) -%}
    {%- set elements -%}
        (case
            when json_valid({{ expression }}) and json_type({{ expression }}) = 'ARRAY'
                then cast(cast({{ expression }} as json) as json [])
        end)
    {%- endset -%}
    generate_subscripts({{ elements }}, 1) - 1 as {{ index_alias }},
    cast(unnest({{ elements }}) as varchar) as {{ element_alias }}
{%- endmacro %}


{% macro json_object_entries(expression, key_alias='json_key', value_alias='json_value') %}
    {{- return(adapter.dispatch('json_object_entries', 'revops')(
        expression, key_alias, value_alias
    )) -}}
{% endmacro %}

{% macro default__json_object_entries(expression, key_alias, value_alias) -%}
    explode(from_json({{ expression }}, 'map<string, string>')) as ({{ key_alias }}, {{ value_alias }})
{%- endmacro %}

{% macro duckdb__json_object_entries(expression, key_alias, value_alias) -%}
    {%- set entries -%}
        (case
            when json_valid({{ expression }}) and json_type({{ expression }}) = 'OBJECT'
                then cast(cast({{ expression }} as json) as map(varchar, json))
        end)
    {%- endset -%}
    unnest(map_keys({{ entries }})) as {{ key_alias }},
    cast(unnest(map_values({{ entries }})) as varchar) as {{ value_alias }}
{%- endmacro %}
