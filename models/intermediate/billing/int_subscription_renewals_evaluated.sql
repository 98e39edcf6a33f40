-- One row per subscription x annual service period (a `subscription` line with a yearly price)
-- ending on or before the latest day of history: the period is up for renewal in the month it
-- ends, and renewed when the subscription continues past its end (a later line starts at or
-- after it, or the subscription had not ended by then).
with

months as (

    select
        month_start_date,
        reference_at
    from {{ ref('int_billing_months') }}

),

line_items as (

    select
        subscription_id,
        recurring_interval,
        period_start_at,
        period_end_at
    from {{ ref('int_invoice_lines_priced') }}
    where
        line_item_type = 'subscription'
        and amount >= 0
        and subscription_id is not null

),

subscriptions as (

    select
        subscription_id,
        customer_id,
        ended_at
    from {{ ref('stg_stripe__subscriptions') }}

),

customers as (

    -- Billing customers (test, internal and deleted ones are not in
    -- int_mrr_movements_classified) and their segment.
    select distinct
        customer_id,
        segment
    from {{ ref('int_mrr_movements_classified') }}

),

annual_periods as (

    select
        subscription_id,
        period_end_at
    from line_items
    where recurring_interval = 'year'
    group by subscription_id, period_end_at

),

continued as (

    select distinct
        annual_periods.subscription_id,
        annual_periods.period_end_at
    from annual_periods
    inner join line_items
        on
            annual_periods.subscription_id = line_items.subscription_id
            and annual_periods.period_end_at <= line_items.period_start_at

),

due as (

    select
        annual_periods.subscription_id,
        subscriptions.customer_id,
        customers.segment,
        continued.subscription_id is not null
        or subscriptions.ended_at is null
        or subscriptions.ended_at > annual_periods.period_end_at as is_renewed,
        months.month_start_date as month,  -- noqa: RF04
        annual_periods.period_end_at
    from annual_periods
    inner join subscriptions
        on annual_periods.subscription_id = subscriptions.subscription_id
    inner join customers
        on subscriptions.customer_id = customers.customer_id
    inner join months
        on
            annual_periods.period_end_at >= cast(months.month_start_date as timestamp)
            and annual_periods.period_end_at <= months.reference_at
    left join continued
        on
            annual_periods.subscription_id = continued.subscription_id
            and annual_periods.period_end_at = continued.period_end_at

),

final as (

    select
        subscription_id,
        customer_id,
        segment,
        is_renewed,
        month,
        period_end_at
    from due

)

select * from final
