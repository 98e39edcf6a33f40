{#-
    The rows 0 to 9 as column `digit`: cross joined with itself, a number series of any size
    without a table function (DuckDB's `range` and Spark's `sequence` differ).
-#}
{% macro digits() -%}
    {%- for digit in range(10) -%}
        select {{ digit }} as digit{% if not loop.last %} union all {% endif %}
    {%- endfor -%}
{%- endmacro %}
