{#-
    The `history_start` setting as a SQL date literal, or `cast(null as date)` when it is not
    set. A value that is not a YYYY-MM-DD date stops the run with a message naming it.
-#}
{% macro history_start_setting() %}
    {%- set value = setting('history_start') | string | trim -%}
    {%- if value == '' or value | lower == 'none' -%}
        {{ return('cast(null as date)') }}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error(
            "Setting history_start (REVOPS_HISTORY_START) must be a date YYYY-MM-DD, got '"
            ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ return("cast('" ~ value ~ "' as date)") }}
{% endmacro %}
