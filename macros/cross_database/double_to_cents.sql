{#-
    A DOUBLE amount as decimal(18, 2), rounded half away from zero to the cent the same way on
    every engine: first to a decimal with 6 places (which absorbs the last-bit differences
    between engines' floating-point arithmetic), then to the cent in decimal arithmetic. A
    DOUBLE rounded straight to the cent can land on either side of an exact half cent, and
    engines round a DOUBLE's half differently (DuckDB on the scaled double, Spark on its exact
    binary value).
-#}
{% macro double_to_cents(expression) -%}
    cast(round(cast({{ expression }} as decimal(24, 6)), 2) as decimal(18, 2))
{%- endmacro %}
