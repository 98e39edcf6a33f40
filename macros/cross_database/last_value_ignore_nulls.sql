{#-
    `last_value` of a window that skips nulls: the latest non-null value of `expression` in the
    frame (use with an `over (...)` clause).
-#}
{% macro last_value_ignore_nulls(expression) %}
    {{- return(adapter.dispatch('last_value_ignore_nulls', 'revops')(expression)) -}}
{% endmacro %}

{% macro default__last_value_ignore_nulls(expression) -%}
    last_value({{ expression }} ignore nulls)
{%- endmacro %}

{% macro spark__last_value_ignore_nulls(expression) -%}
    {#- Spark takes IGNORE NULLS as the second argument (or after the call), not inside it. -#}
    last_value({{ expression }}, true)
{%- endmacro %}
