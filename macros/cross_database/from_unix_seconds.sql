{#-
    Unix time (seconds since 1970-01-01 UTC, as text or integer) as a TIMESTAMP in UTC; null
    when the value is not an integer.
-#}
{% macro from_unix_seconds(expression) %}
    {{- return(adapter.dispatch('from_unix_seconds', 'revops')(expression)) -}}
{% endmacro %}

{% macro default__from_unix_seconds(expression) -%}
    {{ dbt.dateadd(
        'second',
        revops.try_cast(expression, api.Column.translate_type('bigint')),
        "cast('1970-01-01 00:00:00' as " ~ api.Column.translate_type('timestamp') ~ ")",
    ) }}
{%- endmacro %}

{% macro duckdb__from_unix_seconds(expression) -%}
    {#- make_timestamp(microseconds) is a naive TIMESTAMP: no session time zone involved. -#}
    make_timestamp(try_cast({{ expression }} as bigint) * 1000000)
{%- endmacro %}

{% macro spark__from_unix_seconds(expression) -%}
    {#- An instant, shown in the session time zone: the Spark target runs in UTC. -#}
    timestamp_seconds({{ revops.try_cast(expression, 'bigint') }})
{%- endmacro %}
