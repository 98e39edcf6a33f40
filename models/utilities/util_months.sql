-- One row per calendar month of the history window (util_history_window): from its first
-- month to the current month. The global month spine that month-grain marts join to so that
-- months without activity still appear.
with

window_bounds as (

    select
        history_start_date,
        cast({{ dbt.date_trunc('month', 'history_end_date') }} as date) as last_month_start_date
    from {{ ref('util_history_window') }}

),

digits as (

    {{ digits() }}

),

month_offsets as (

    -- 0 to 9,999 months: any history a CRM or billing system can hold.
    select
        thousands.digit * 1000 + hundreds.digit * 100 + tens.digit * 10 + units.digit
            as month_offset
    from digits as thousands
    cross join digits as hundreds
    cross join digits as tens
    cross join digits as units

),

months as (

    select
        cast({{ dbt.dateadd('month', 'month_offsets.month_offset', 'window_bounds.history_start_date') }} as date)  -- noqa: LT05
            as month_start_date,
        window_bounds.last_month_start_date
    from window_bounds
    cross join month_offsets

),

final as (

    select
        month_start_date,
        cast({{ dbt.last_day('month_start_date', 'month') }} as date) as month_end_date
    from months
    where month_start_date <= last_month_start_date

)

select * from final
