{#-
    A numeric org setting (setting()), checked: a whole number when `whole` is true, else a
    decimal number. Anything else stops the run with a message naming the setting and its
    environment variable, rather than becoming 0 or a SQL error far away.
-#}
{% macro numeric_setting(name, whole=false) %}
    {%- set value = setting(name) | string | trim -%}
    {%- set pattern = '^[0-9]+$' if whole else '^[0-9]*[.]?[0-9]+$' -%}
    {%- if not modules.re.match(pattern, value) -%}
        {{ exceptions.raise_compiler_error(
            "Setting " ~ name ~ " (REVOPS_" ~ (name | upper) ~ ") must be "
            ~ ("a whole number" if whole else "a number") ~ ", got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}
