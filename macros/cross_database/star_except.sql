{#-
    Every column of the `from` clause but the ones named:
    `select {{ star_except(['version_rank']) }}`. For dropping a helper column (a rank, a
    derived flag) without listing the columns kept, so the CTE that defines them stays their
    one list. DuckDB spells it `* exclude (...)`; Spark (4.0 and later), Databricks and
    BigQuery `* except (...)`.
-#}
{% macro star_except(columns) %}
    {{- return(adapter.dispatch('star_except', 'revops')(columns)) -}}
{% endmacro %}

{% macro default__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}

{% macro duckdb__star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}
