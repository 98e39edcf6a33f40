{#-
    An integer amount in a currency's minor unit (Stripe: cents for USD, yen for JPY) as a
    DECIMAL in the currency's units, given the minor-unit exponent (a column or a literal).
    Multiplying by an exact decimal factor keeps the result exact (a division would give a
    DOUBLE on DuckDB). An exponent outside 0-6 or null gives null, which the `cast_failures`
    test reports.
-#}
{% macro minor_units_to_decimal(amount, exponent, scale=4) -%}
    cast(
        {{ revops.try_cast(amount, 'decimal(18, 0)') }}
        * case {{ exponent }}
            when 0 then 1
            when 1 then 0.1
            when 2 then 0.01
            when 3 then 0.001
            when 4 then 0.0001
            when 5 then 0.00001
            when 6 then 0.000001
        end
        as decimal(18, {{ scale }})
    )
{%- endmacro %}
