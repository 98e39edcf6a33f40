-- Collected revenue summed over every month of revenue_by_month (segment All) equals succeeded
-- charges minus succeeded refunds in staging, each converted at its own day's rate and rounded
-- to the cent, test and internal customers excluded: nothing is dropped by the month spine,
-- the segment join or a missing FX rate (a record without a rate fails the test).
with

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
        sum(round(signed.amount * fx_rates.rate_to_reporting, 2)) as collected_revenue,
        sum(case when fx_rates.rate_to_reporting is null then 1 else 0 end)
            as records_without_rate
    from signed
    left join customers
        on signed.customer_id = customers.customer_id
    left join fx_rates
        on
            signed.currency = fx_rates.currency
            and cast(signed.created_at as date) = fx_rates.calendar_date
    where not coalesce(customers.is_excluded, false)

),

mart as (

    select sum(collected_revenue) as collected_revenue
    from {{ ref('revenue_by_month') }}
    where segment = 'All'

)

select
    mart.collected_revenue as mart_collected_revenue,
    staged.collected_revenue as staged_collected_revenue,
    staged.records_without_rate
from mart
cross join staged
where
    staged.records_without_rate > 0
    or coalesce(mart.collected_revenue, 0) <> coalesce(staged.collected_revenue, 0)
