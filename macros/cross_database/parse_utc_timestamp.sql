{#-
    An ISO 8601 timestamp string (`2025-03-01T14:02:11.000Z`, or with an offset such as
    `+02:00`) as a TIMESTAMP in UTC; null when the text is not a timestamp. Text without an
    offset is taken to be UTC already, whatever the session time zone.
-#}
{% macro parse_utc_timestamp(expression) %}
    {{- return(adapter.dispatch('parse_utc_timestamp', 'revops')(expression)) -}}
{% endmacro %}

{% macro default__parse_utc_timestamp(expression) -%}
    {#- Spark parses the offset and returns the instant in the session time zone: run with
        spark.sql.session.timeZone = UTC. -#}
    {{ revops.try_cast(expression, api.Column.translate_type('timestamp')) }}
{%- endmacro %}

{% macro duckdb__parse_utc_timestamp(expression) -%}
    {#- A plain cast to TIMESTAMP would drop the offset, so text with one goes through
        TIMESTAMPTZ and is converted to UTC. -#}
    case
        when regexp_matches(trim({{ expression }}), '(Z|[+-][0-9]{2}:?[0-9]{2})$')
            then timezone('UTC', try_cast(trim({{ expression }}) as timestamptz))
        else try_cast(trim({{ expression }}) as timestamp)
    end
{%- endmacro %}
