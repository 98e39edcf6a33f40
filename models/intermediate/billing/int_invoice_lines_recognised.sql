-- One row per subscription invoice line x month of billing history its service period overlaps:
-- the line's amount net of discount (finalized, non-void invoices; test and internal customers
-- excluded), converted at the rate of the invoice's created day and rounded to the cent, spread
-- evenly over the days of [period_start, period_end) and attributed to months by day. Cumulative
-- rounding makes a line's monthly parts sum exactly to its converted amount when the whole
-- period lies within history; a period of zero days is recognised in its start month.
with

months as (

    select
        month_start_date,
        month_end_date
    from {{ ref('int_billing_months') }}

),

line_items as (

    select
        invoice_line_item_id,
        invoice_id,
        currency,
        amount,
        discount_amount,
        period_start_at,
        period_end_at
    from {{ ref('stg_stripe__invoice_line_items') }}
    where line_item_type = 'subscription'

),

invoices as (

    select
        invoice_id,
        customer_id,
        created_at
    from {{ ref('stg_stripe__invoices') }}
    where invoice_status in ('open', 'paid', 'uncollectible')

),

customers as (

    select
        customer_id,
        account_id,
        is_excluded
    from {{ ref('int_customers_linked') }}

),

accounts as (

    select
        account_id,
        segment
    from {{ ref('int_accounts_segmented') }}

),

fx_rates as (

    select
        currency,
        calendar_date,
        rate_to_reporting
    from {{ ref('int_fx_rates_daily') }}

),

converted as (

    select
        line_items.invoice_line_item_id,
        invoices.customer_id,
        coalesce(accounts.segment, 'Unknown') as segment,
        cast(
            round(
                (line_items.amount - coalesce(line_items.discount_amount, 0))
                * fx_rates.rate_to_reporting,
                2
            ) as decimal(18, 2)
        ) as amount_reporting,
        cast(line_items.period_start_at as date) as period_start_date,
        cast(line_items.period_end_at as date) as period_end_date
    from line_items
    inner join invoices
        on line_items.invoice_id = invoices.invoice_id
    left join customers
        on invoices.customer_id = customers.customer_id
    left join accounts
        on customers.account_id = accounts.account_id
    left join fx_rates
        on
            line_items.currency = fx_rates.currency
            and cast(invoices.created_at as date) = fx_rates.calendar_date
    where not coalesce(customers.is_excluded, false)

),

with_days as (

    select
        *,
        {{ dbt.datediff('period_start_date', 'period_end_date', 'day') }} as period_days  -- noqa: LT05
    from converted

),

overlapping as (

    select
        with_days.invoice_line_item_id,
        with_days.customer_id,
        with_days.segment,
        with_days.amount_reporting,
        with_days.period_days,
        case
            when with_days.period_start_date > months.month_start_date
                then with_days.period_start_date
            else months.month_start_date
        end as overlap_start_date,
        case
            when with_days.period_end_date <= months.month_end_date
                then with_days.period_end_date
            else cast({{ dbt.dateadd('day', 1, 'months.month_end_date') }} as date)
        end as overlap_end_date,
        months.month_start_date
    from with_days
    inner join months
        on
            with_days.period_start_date <= months.month_end_date
            and (
                with_days.period_end_date > months.month_start_date
                or (
                    with_days.period_days <= 0
                    and with_days.period_start_date >= months.month_start_date
                )
            )

),

with_month_days as (

    select
        invoice_line_item_id,
        customer_id,
        segment,
        amount_reporting,
        period_days,
        case
            when period_days <= 0 then 1
            else {{ dbt.datediff('overlap_start_date', 'overlap_end_date', 'day') }}
        end as days_in_month,
        month_start_date
    from overlapping

),

cumulated as (

    select
        *,
        sum(days_in_month) over (
            partition by invoice_line_item_id
            order by month_start_date
            rows between unbounded preceding and current row
        ) as days_through_month,
        case when period_days <= 0 then 1 else period_days end as spread_days,
        cast(amount_reporting * 100 as bigint) as amount_cents,
        case when amount_reporting < 0 then -1 else 1 end as amount_sign
    from with_month_days

),

final as (

    select
        invoice_line_item_id,
        customer_id,
        segment,
        amount_reporting,
        days_in_month,
        spread_days as period_days,
        -- Exact on every engine: cents recognised through this month minus through the last,
        -- each rounded half away from zero in integer arithmetic (a decimal division is a
        -- DOUBLE on DuckDB and a rounded decimal on Spark, which differ by a cent at halves).
        cast(
            (
                {{ divide_round_half_up(["abs(amount_cents)", "days_through_month"], "spread_days") }}  -- noqa: LT05
                - {{ divide_round_half_up(
                    ["abs(amount_cents)", "days_through_month - days_in_month"], "spread_days"
                ) }}
            ) * amount_sign * 0.01
            as decimal(18, 2)
        ) as recognised_revenue,
        month_start_date as month  -- noqa: RF04
    from cumulated

)

select * from final
