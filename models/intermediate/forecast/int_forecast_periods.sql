-- One row per as-of date (util_pipeline_as_of_dates) x period grain (month, quarter) x period
-- (the one holding the as-of date and the next): the periods every forecast is made for, with
-- the horizon (days from the as-of date to the period's last day) and its horizon band (the
-- nearest of the setting forecast_horizon_days, if no further from it than half the smallest;
-- else null: a period all but over, or one too far ahead for any band).
{%- set horizons = list_setting('forecast_horizon_days') | map('int') | sort | list %}
{%- set horizon_days = dbt.datediff('as_of_date', 'period_end', 'day') %}
{%- set next_month = dbt.dateadd('month', 1, 'period_start') %}
{%- set next_quarter = dbt.dateadd('month', 3, 'period_start') %}
with

as_of_dates as (

    select as_of_date
    from {{ ref('util_pipeline_as_of_dates') }}

),

grains as (

    select
        as_of_dates.as_of_date,
        'month' as period_grain,
        cast({{ dbt.date_trunc('month', 'as_of_dates.as_of_date') }} as date) as current_start
    from as_of_dates
    union all
    select
        as_of_dates.as_of_date,
        'quarter' as period_grain,
        cast({{ dbt.date_trunc('quarter', 'as_of_dates.as_of_date') }} as date) as current_start
    from as_of_dates

),

periods as (

    select
        as_of_date,
        period_grain,
        true as is_current_period,
        current_start as period_start
    from grains
    union all
    select
        as_of_date,
        period_grain,
        false as is_current_period,
        case
            when period_grain = 'month'
                then cast({{ dbt.dateadd('month', 1, 'current_start') }} as date)
            else cast({{ dbt.dateadd('month', 3, 'current_start') }} as date)
        end as period_start
    from grains

),

bounded as (

    select
        as_of_date,
        period_grain,
        is_current_period,
        period_start,
        case
            when period_grain = 'month'
                then cast({{ dbt.dateadd('day', -1, next_month) }} as date)
            else cast({{ dbt.dateadd('day', -1, next_quarter) }} as date)
        end as period_end
    from periods

),

final as (

    select
        period_grain,
        {{ horizon_days }} as horizon_days,
        -- the nearest horizon, within half the smallest one of it (a tie goes to the shorter)
        case
            {%- for h in horizons %}
            when abs({{ horizon_days }} - {{ h }}) * 2 <= {{ horizons[0] }}
                then {{ h }}
            {%- endfor %}
        end as horizon_band,
        is_current_period,
        as_of_date,
        period_start,
        period_end
    from bounded

)

select * from final
