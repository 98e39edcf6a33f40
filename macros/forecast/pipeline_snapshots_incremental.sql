{#-
    Steps of fct_pipeline_snapshots' incremental run, which orders the history of only the
    opportunities that can be open on a new as-of date (the model's header says which are
    settled).
-#}

{#- The body of the `history` / `versions` CTEs: the rows of `relation` (a CTE with an
    `opportunity_id` column) and, on an incremental run, only those of opportunities not in the
    model's `settled_opportunities` CTE. -#}
{% macro without_settled_opportunities(relation) -%}
    select {{ relation }}.*
    from {{ relation }}
    {%- if is_incremental() %}
    left join settled_opportunities
        on {{ relation }}.opportunity_id = settled_opportunities.opportunity_id
    where settled_opportunities.opportunity_id is null
    {%- endif %}
{%- endmacro %}


{#- The latest date of `timestamp_column` in a group, counting only the rows where `condition`
    holds when one is given (null when none does): `{{ latest_date_of('changed_at',
    'not coalesce(stages.is_closed, false)') }} as last_not_closed_date`. -#}
{% macro latest_date_of(timestamp_column, condition=none) -%}
    {%- if condition -%}
        max(case when {{ condition }} then cast({{ timestamp_column }} as date) end)
    {%- else -%}
        max(cast({{ timestamp_column }} as date))
    {%- endif -%}
{%- endmacro %}
