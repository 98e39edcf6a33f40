{#-
    A metric ratio: numerator / denominator as a double, null when the denominator is 0 or null
    (never 0 and never a division error). Every ratio of the metric marts goes through it, so
    that "null when its denominator is 0" (docs/METRICS.md) is written once.
-#}
{% macro ratio(numerator, denominator) -%}
    case
        when ({{ denominator }}) > 0
            then cast({{ numerator }} as double) / ({{ denominator }})
    end
{%- endmacro %}
