{#-
    The product of non-negative integer expressions (`factors`, a list) divided by a positive
    integer `denominator`, rounded half up to an integer, exactly: floor((2n + d) / 2d) in
    integer arithmetic. A decimal division would give a DOUBLE on DuckDB and could round an exact
    half the wrong way; a decimal product of two decimal(38, 0) would overflow its type.
-#}
{% macro divide_round_half_up(factors, denominator) %}
    {{- return(adapter.dispatch('divide_round_half_up', 'revops')(factors, denominator)) -}}
{% endmacro %}

{% macro default__divide_round_half_up(factors, denominator) -%}
    {#- Spark and most warehouses keep a division of decimal(38, 0) values a decimal. -#}
    {%- set numerator -%}
        {%- for factor in factors -%}
            cast({{ factor }} as decimal(38, 0)){% if not loop.last %} * {% endif %}
        {%- endfor -%}
    {%- endset -%}
    floor(
        (2 * {{ numerator }} + cast({{ denominator }} as decimal(38, 0)))
        / (2 * cast({{ denominator }} as decimal(38, 0)))
    )
{%- endmacro %}

{% macro duckdb__divide_round_half_up(factors, denominator) -%}
    {%- set numerator -%}
        {%- for factor in factors -%}
            cast({{ factor }} as hugeint){% if not loop.last %} * {% endif %}
        {%- endfor -%}
    {%- endset -%}
    ((2 * {{ numerator }} + cast({{ denominator }} as hugeint))
        // (2 * cast({{ denominator }} as hugeint)))
{%- endmacro %}
