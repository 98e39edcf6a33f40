-- One row per month of billing history, from the start of history to the month of the latest
-- billing or FX delivery: the month's reference date and instant (its last day and second, or
-- the latest day of history for the current partial month), at which MRR is read.
with

months as (

    select
        month_start_date,
        month_end_date
    from {{ ref('util_months') }}

),

deliveries as (

    select _delivery_date from {{ ref('stg_stripe__invoice_line_items') }}
    union all
    select _delivery_date from {{ ref('stg_stripe__subscriptions') }}
    union all
    select _delivery_date from {{ ref('stg_stripe__invoices') }}
    union all
    -- The daily FX delivery dates the days the exports ran: a last day on which no billing
    -- object changed is still a day of history (read at its end, not the day before).
    select _delivery_date from {{ ref('stg_reference__fx_rates') }}

),

history_end as (

    -- The latest day of history: the latest day billing or FX data was delivered for.
    select max(_delivery_date) as history_end_date
    from deliveries

),

bounded as (

    select
        months.month_start_date,
        months.month_end_date,
        case
            when history_end.history_end_date < months.month_end_date
                then history_end.history_end_date
            else months.month_end_date
        end as reference_date
    from months
    cross join history_end
    where months.month_start_date <= history_end.history_end_date

),

final as (

    select
        month_start_date,
        month_end_date,
        reference_date,
        reference_date < month_end_date as is_partial_month,
        {{ dbt.dateadd(
            'second', -1, dbt.dateadd('day', 1, 'cast(reference_date as timestamp)')
        ) }} as reference_at
    from bounded

)

select * from final
