-- One row per billing customer x month of billing history, from the customer's first month with
-- a subscription in service to the latest month of history (months without service have MRR 0).
-- Test, internal and deleted customers are excluded. MRR sums the customer's item values in its
-- currency exactly, then converts at the rate of the month's reference date (its last day, or
-- the latest day of history) rounded half up to the cent; constant-currency MRR converts at the
-- currency's first usable rate of history instead. The same month's value is also converted at
-- the previous month's rate and at the rate of the month a year earlier (the FX-neutral MRR
-- bridge and retention compare with those months at their own rates). Without a usable rate,
-- MRR in service is null.
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

    select
        customer_id,
        account_id,
        currency
    from {{ ref('int_customers_linked') }}
    where
        not is_excluded
        and not coalesce(is_deleted, false)

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

first_rates as (

    -- Constant-currency MRR uses each currency's first usable rate of history (the first day
    -- of history when it has one).
    select
        currency,
        min(calendar_date) as first_rate_date
    from fx_rates
    group by currency

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
        months.reference_date,
        -- The reference date of the month before (always its last day: only the latest month
        -- of history can be partial) and of the same month a year earlier.
        cast({{ dbt.dateadd('day', -1, 'months.month_start_date') }} as date)
            as previous_month_reference_date,
        cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd('month', -11, 'months.month_start_date')) }}
            as date
        ) as year_ago_reference_date
    from customers
    inner join first_months
        on customers.customer_id = first_months.customer_id
    inner join months
        on first_months.first_service_month_date <= months.month_start_date

),

valued as (

    select
        customer_month_spine.customer_id,
        customer_month_spine.account_id,
        coalesce(accounts.segment, 'Unknown') as segment,
        customer_month_spine.currency,
        coalesce(customer_values.subscriptions_in_service, 0) as subscriptions_in_service,
        coalesce(customer_values.monthly_value_x1200, 0) as monthly_value_x1200,
        month_rates.rate_to_reporting,
        constant_rates.rate_to_reporting as constant_rate_to_reporting,
        previous_month_rates.rate_to_reporting as previous_month_rate_to_reporting,
        year_ago_rates.rate_to_reporting as year_ago_rate_to_reporting,
        customer_month_spine.month_start_date,
        customer_month_spine.reference_date
    from customer_month_spine
    left join first_rates
        on customer_month_spine.currency = first_rates.currency
    left join customer_values
        on
            customer_month_spine.customer_id = customer_values.customer_id
            and customer_month_spine.month_start_date = customer_values.month_start_date
    left join accounts
        on customer_month_spine.account_id = accounts.account_id
    left join fx_rates as month_rates
        on
            customer_month_spine.currency = month_rates.currency
            and customer_month_spine.reference_date = month_rates.calendar_date
    left join fx_rates as constant_rates
        on
            first_rates.currency = constant_rates.currency
            and first_rates.first_rate_date = constant_rates.calendar_date
    left join fx_rates as previous_month_rates
        on
            customer_month_spine.currency = previous_month_rates.currency
            and customer_month_spine.previous_month_reference_date
            = previous_month_rates.calendar_date
    left join fx_rates as year_ago_rates
        on
            customer_month_spine.currency = year_ago_rates.currency
            and customer_month_spine.year_ago_reference_date = year_ago_rates.calendar_date

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
        reference_date
    from converted

)

select * from final
