-- One row per calendar day of the history window: from the first day of its first month to
-- today. The date spine for daily reference data (FX rates carried forward over days without a
-- published rate). Built from util_months, so it costs 31 rows per month of history.
with

months as (

    select
        month_start_date,
        month_end_date
    from {{ ref('util_months') }}

),

window_bounds as (

    select history_end_date from {{ ref('util_history_window') }}

),

digits as (

    {{ digits() }}

),

day_offsets as (

    select tens.digit * 10 + units.digit as day_offset
    from digits as tens
    cross join digits as units
    where tens.digit * 10 + units.digit <= 30

),

days as (

    select
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'months.month_start_date') }} as date)  -- noqa: LT05
            as calendar_date,
        months.month_end_date
    from months
    cross join day_offsets

),

final as (

    select days.calendar_date
    from days
    cross join window_bounds
    where
        days.calendar_date <= days.month_end_date
        and days.calendar_date <= window_bounds.history_end_date

)

select * from final
