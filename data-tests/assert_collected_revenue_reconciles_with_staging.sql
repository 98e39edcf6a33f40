-- Collected revenue summed over every month of revenue_by_month (segment All) equals succeeded
-- charges minus succeeded refunds in staging, each converted at its own day's usable rate and
-- rounded to the cent, test and internal customers excluded, from the start of the history
-- window (util_history_window): nothing is dropped by the month
-- spine or the segment join. A record without a usable FX rate is left out on both sides and
-- reported by the warning check assert_amounts_have_fx_rates. Compared with
-- `is distinct from`, and a null collected revenue in the mart (0 when empty) fails.
with

history_window as (

    select
        history_start_date,
        last_month_end_date
    from {{ ref('util_history_window') }}

),

customers as (

    select
        customer_id,
        is_excluded
    from {{ ref('int_customers_linked') }}

),

fx_rates as (

    select
        currency,
        calendar_date,
        rate_to_reporting
    from {{ ref('int_fx_rates_daily') }}

),

charges as (

    select
        charge_id,
        customer_id,
        currency,
        charge_status,
        amount,
        created_at
    from {{ ref('stg_stripe__charges') }}

),

signed as (

    select
        customer_id,
        currency,
        amount,
        created_at
    from charges
    where charge_status = 'succeeded'
    union all
    select
        charges.customer_id,
        refunds.currency,
        -refunds.amount as amount,
        refunds.created_at
    from {{ ref('stg_stripe__refunds') }} as refunds
    left join charges
        on refunds.charge_id = charges.charge_id
    where refunds.refund_status = 'succeeded'

),

staged as (

    select
        coalesce(sum(round(signed.amount * fx_rates.rate_to_reporting, 2)), 0)
            as collected_revenue,
        sum(case when fx_rates.rate_to_reporting is null then 1 else 0 end)
            as records_without_rate
    from signed
    left join customers
        on signed.customer_id = customers.customer_id
    left join fx_rates
        on
            signed.currency = fx_rates.currency
            and cast(signed.created_at as date) = fx_rates.calendar_date
    cross join history_window
    where
        not coalesce(customers.is_excluded, false)
        and cast(signed.created_at as date) >= history_window.history_start_date

),

mart as (

    select
        coalesce(sum(collected_revenue), 0) as collected_revenue,
        count(*) - count(collected_revenue) as null_rows
    from {{ ref('revenue_by_month') }}
    where segment = 'All'

)

select
    mart.collected_revenue as mart_collected_revenue,
    staged.collected_revenue as staged_collected_revenue,
    staged.records_without_rate,
    mart.null_rows as mart_null_rows
from mart
cross join staged
where
    mart.collected_revenue is distinct from staged.collected_revenue
    or mart.null_rows > 0
