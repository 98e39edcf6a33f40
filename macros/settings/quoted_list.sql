{#-
    The values of a list setting (list_setting) as SQL string literals for `in (...)`,
    single quotes doubled.
-#}
{% macro quoted_list(items) -%}
    {%- for item in items -%}
        '{{ item | replace("'", "''") }}'{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
