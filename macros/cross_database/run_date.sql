{#-
    The run's date (UTC): the day the dbt invocation started (`run_started_at`), the same for
    every model of one build. `current_date` is evaluated per query, so a build that crosses
    midnight would mix two "todays" in one snapshot (a history window ending on one day, a
    closed-month flag computed on the next). A literal, so it is the same on DuckDB and Spark.
-#}
{% macro run_date() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d") }}' as date)
{%- endmacro %}
