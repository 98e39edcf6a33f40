-- One row per billing customer x month of billing history, from the customer's first month with
-- a subscription in service to the latest month of history (months without service have MRR 0).
-- Test, internal and deleted customers are excluded. MRR sums the customer's item values in its
-- currency exactly, then converts at the rate of the month's reference date (its last day, or
-- the latest day of history) rounded half up to the cent; constant-currency MRR converts at the
-- currency's first usable rate of history instead. The same month's value is also converted at
-- the previous month's rate and at the rate of the month a year earlier (the FX-neutral MRR
-- bridge and retention compare with those months at their own rates). Without a usable rate,
-- MRR in service is null.
-- Incremental: a run recomputes only the affected customers, months and currency x months
-- (macros/billing/affected_keys.sql: the pre-hook finds and deletes them; the model recomputes
-- the pairs with no row left); `_inputs_signature` records what each customer's rows were
-- built from.
{{ config(**affected_keys_config([
    "{{ revops.mrr_customer_months_pre_hook() }}",
])) }}

with

months as (

    select
        month_start_date,
        reference_date
    from {{ ref('int_billing_months') }}

),

item_months as (

    select
        customer_id,
        subscription_id,
        monthly_value_x1200,
        month_start_date
    from {{ ref('int_subscription_item_months') }}

),

customers as (

    {{ mrr_customers() }}

),

accounts as (

    select
        account_id,
        segment
    from {{ ref('int_accounts_segmented') }}

),

currency_month_rates as (

    -- Per currency and month: the rate of the month's reference date, the currency's first
    -- usable rate of history (constant currency: the first day of history when it has one),
    -- the rate of the previous month's reference date (always its last day: only the latest
    -- month of history can be partial) and of the last day of the same month a year earlier.
    {{ mrr_currency_month_rates() }}

),

signatures as (

    {{ mrr_customer_signatures() }}

),

customer_values as (

    select
        customer_id,
        month_start_date,
        count(distinct subscription_id) as subscriptions_in_service,
        sum(monthly_value_x1200) as monthly_value_x1200
    from item_months
    group by customer_id, month_start_date

),

first_months as (

    select
        customer_id,
        min(month_start_date) as first_service_month_date
    from customer_values
    group by customer_id

),

customer_month_spine as (

    select
        customers.customer_id,
        customers.account_id,
        customers.currency,
        months.month_start_date,
        months.reference_date
    from customers
    inner join first_months
        on customers.customer_id = first_months.customer_id
    inner join months
        on first_months.first_service_month_date <= months.month_start_date
    {%- if is_incremental() %}
    -- The customer x months with no row stored: once the pre-hook deleted the rows of the
    -- affected customers, months and currency x months, exactly those (an unaffected pair's
    -- row is stored and unchanged), without computing the affected keys a second time.
    where not exists (
        select 1 from {{ this }} as stored
        where
            stored.customer_id = customers.customer_id
            and stored.month_start_date = months.month_start_date
    )
    {%- endif %}

),

valued as (

    select
        customer_month_spine.customer_id,
        customer_month_spine.account_id,
        coalesce(accounts.segment, 'Unknown') as segment,
        customer_month_spine.currency,
        coalesce(customer_values.subscriptions_in_service, 0) as subscriptions_in_service,
        coalesce(customer_values.monthly_value_x1200, 0) as monthly_value_x1200,
        currency_month_rates.rate_to_reporting,
        currency_month_rates.constant_rate_to_reporting,
        currency_month_rates.previous_month_rate_to_reporting,
        currency_month_rates.year_ago_rate_to_reporting,
        customer_month_spine.month_start_date,
        customer_month_spine.reference_date,
        signatures.inputs_signature
    from customer_month_spine
    inner join signatures
        on customer_month_spine.customer_id = signatures.customer_id
    left join currency_month_rates
        on
            customer_month_spine.currency = currency_month_rates.currency
            and customer_month_spine.month_start_date = currency_month_rates.month_start_date
    left join customer_values
        on
            customer_month_spine.customer_id = customer_values.customer_id
            and customer_month_spine.month_start_date = customer_values.month_start_date
    left join accounts
        on customer_month_spine.account_id = accounts.account_id

),

converted as (

    -- Cents = (1,200 x value) x 10^6 x (rate x 10^6) / (12 x 10^12), in integers: the item
    -- values have at most 6 decimals (4 of the unit amount, 2 of the percent off) and the rates
    -- 6, so the products are exact and only the final rounding (half up) loses anything.
    select
        *,
        {{ divide_round_half_up(
            ['monthly_value_x1200 * 1000000', 'rate_to_reporting * 1000000'],
            '12000000000000',
        ) }} as mrr_cents,
        {{ divide_round_half_up(
            ['monthly_value_x1200 * 1000000', 'constant_rate_to_reporting * 1000000'],
            '12000000000000',
        ) }} as mrr_constant_currency_cents,
        {{ divide_round_half_up(
            ['monthly_value_x1200 * 1000000', 'previous_month_rate_to_reporting * 1000000'],
            '12000000000000',
        ) }} as mrr_at_previous_month_rate_cents,
        {{ divide_round_half_up(
            ['monthly_value_x1200 * 1000000', 'year_ago_rate_to_reporting * 1000000'],
            '12000000000000',
        ) }} as mrr_at_year_ago_rate_cents
    from valued

),

final as (

    select
        customer_id,
        account_id,
        segment,
        currency,
        '{{ setting("reporting_currency") }}' as reporting_currency,
        subscriptions_in_service,
        monthly_value_x1200,
        rate_to_reporting,
        constant_rate_to_reporting,
        previous_month_rate_to_reporting,
        year_ago_rate_to_reporting,
        -- Without a usable rate (int_fx_rates_daily) MRR in service is null, never 0; a month
        -- without service is 0 in any currency.
        case
            when monthly_value_x1200 = 0 then cast(0 as decimal(18, 2))
            else cast(mrr_cents * 0.01 as decimal(18, 2))
        end as mrr,
        case
            when monthly_value_x1200 = 0 then cast(0 as decimal(18, 2))
            else cast(mrr_constant_currency_cents * 0.01 as decimal(18, 2))
        end as mrr_constant_currency,
        -- This month's items at last month's rate (null in the first month of history or when
        -- last month's reference date has no usable rate), and at the rate of the same month a
        -- year earlier (null before twelve months of history).
        case
            when monthly_value_x1200 = 0 then cast(0 as decimal(18, 2))
            else cast(mrr_at_previous_month_rate_cents * 0.01 as decimal(18, 2))
        end as mrr_at_previous_month_rate,
        case
            when monthly_value_x1200 = 0 then cast(0 as decimal(18, 2))
            else cast(mrr_at_year_ago_rate_cents * 0.01 as decimal(18, 2))
        end as mrr_at_year_ago_rate,
        subscriptions_in_service > 0 as is_in_service,
        month_start_date,
        reference_date,
        inputs_signature as _inputs_signature
    from converted

)

select * from final
