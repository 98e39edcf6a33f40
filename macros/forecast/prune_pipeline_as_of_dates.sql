{#-
    Post-hook of fct_pipeline_snapshots: remove the as-of dates util_pipeline_as_of_dates no
    longer lists (a Monday older than the last `pipeline_recent_mondays`, the previous latest
    day). Rendered when the hook runs, so ref() is the real table (a hook string built in
    config() at parse time would resolve it to the model itself). Spark without Delta has no
    delete: there the table keeps them (docs/SPARK.md).
-#}
{% macro prune_pipeline_as_of_dates() %}
    {{- return(adapter.dispatch('prune_pipeline_as_of_dates', 'revops')()) -}}
{% endmacro %}

{% macro default__prune_pipeline_as_of_dates() -%}
    delete from {{ this }}
    where as_of_date not in (
        select listed.as_of_date from {{ ref('util_pipeline_as_of_dates') }} as listed
    )
{%- endmacro %}

{% macro spark__prune_pipeline_as_of_dates() -%}
    select 1 as nothing_to_prune
{%- endmacro %}
