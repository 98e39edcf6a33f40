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
-- (macros/billing/affected_keys.sql: the pre-hooks compute the signatures and find those keys
-- once, keep them, and delete their rows; the model recomputes exactly the kept keys);
-- `_inputs_signature` records what each customer's rows were built from.
{{ config(**affected_keys_config([
    "{{ revops.mrr_customer_months_keep_signatures() }}",
    "{{ revops.mrr_customer_months_keep_affected_customers() }}",
    "{{ revops.mrr_customer_months_keep_affected_months() }}",
    "{{ revops.mrr_customer_months_keep_affected_currency_months() }}",
    "{{ revops.mrr_customer_months_delete_affected() }}",
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

    -- Per customer: the signature of its inputs and its first month with a subscription in
    -- service (on an incremental run, as the pre-hook kept them).
    {%- if is_incremental() %}
    select
        current_signatures.customer_id,
        current_signatures.inputs_signature,
        current_signatures.first_service_month_date
    from {{ mrr_customer_signatures_now() }}
    {%- else %}
    {{ mrr_customer_signatures() }}
    {%- endif %}

),

first_months as (

    select
        customer_id,
        first_service_month_date
    from signatures
    where first_service_month_date is not null

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
    -- The customer x months of the affected customers, months and currency x months, whose
    -- rows the pre-hook deleted (an unaffected pair's row is stored and unchanged).
    where
        {{ mrr_customer_month_is_affected(
            'customers.customer_id', 'customers.currency', 'months.month_start_date'
        ) | indent(8) }}
    {%- endif %}

),

customer_values as (

    select
        item_months.customer_id,
        item_months.month_start_date,
        count(distinct item_months.subscription_id) as subscriptions_in_service,
        sum(item_months.monthly_value_x1200) as monthly_value_x1200
    from item_months
    {%- if is_incremental() %}
    -- only the customer x months recomputed
    inner join (
        select distinct
            customer_id,
            month_start_date
        from customer_month_spine
    ) as recomputed
        on
            item_months.customer_id = recomputed.customer_id
            and item_months.month_start_date = recomputed.month_start_date
    {%- endif %}
    group by item_months.customer_id, item_months.month_start_date

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
