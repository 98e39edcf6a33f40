-- One row per revenue record: a finalized, non-void invoice (invoiced: subtotal minus
-- discounts, tax excluded), a succeeded charge (collected) or a succeeded refund (refunded),
-- dated by its creation day and converted to the reporting currency at that day's rate,
-- rounded to the cent per record. Test and internal customers are excluded.
-- Incremental by record (macros/billing/revenue_records.sql): a run recomputes only the records
-- loaded since the newest `_loaded_at` stored (for a refund, also its charge's), of the
-- customers whose exclusion or segment changed, and of the currency x days whose rate changed.
{{ config(**affected_keys_config([
    "{{ revops.revenue_records_keep_affected() }}",
    "{{ revops.revenue_records_delete_affected() }}",
])) }}

with
{% if is_incremental() %}
affected as (

    select
        affected_records.record_type,
        affected_records.record_id
    from {{ kept_affected_keys_relation('records', revenue_records_affected_keys()) }}
        as affected_records

),
{% endif %}

invoices as (

    select
        invoice_id,
        customer_id,
        currency,
        subtotal_amount,
        discount_amount,
        created_at,
        _loaded_at
    from {{ ref('stg_stripe__invoices') }}
    where
        invoice_status in ('open', 'paid', 'uncollectible')
        and {{ revenue_record_is_affected('invoiced', 'invoice_id') }}

),

charges as (

    select
        charge_id,
        customer_id,
        currency,
        amount,
        created_at,
        _loaded_at
    from {{ ref('stg_stripe__charges') }}
    where
        charge_status = 'succeeded'
        and {{ revenue_record_is_affected('collected', 'charge_id') }}

),

refunds as (

    select
        refund_id,
        charge_id,
        currency,
        amount,
        created_at,
        _loaded_at
    from {{ ref('stg_stripe__refunds') }}
    where
        refund_status = 'succeeded'
        and {{ revenue_record_is_affected('refunded', 'refund_id') }}

),

refunded_charges as (

    select
        charge_id,
        customer_id,
        _loaded_at
    from {{ ref('stg_stripe__charges') }}

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

records as (

    select
        invoice_id as record_id,
        'invoiced' as record_type,
        customer_id,
        currency,
        subtotal_amount - coalesce(discount_amount, 0) as amount,
        created_at,
        _loaded_at
    from invoices
    union all
    select
        charge_id as record_id,
        'collected' as record_type,
        customer_id,
        currency,
        amount,
        created_at,
        _loaded_at
    from charges
    union all
    select
        refunds.refund_id as record_id,
        'refunded' as record_type,
        refunded_charges.customer_id,
        refunds.currency,
        refunds.amount,
        refunds.created_at,
        -- the later of the refund's and its charge's loads (the charge gives the customer)
        case
            when refunded_charges._loaded_at > refunds._loaded_at then refunded_charges._loaded_at
            else refunds._loaded_at
        end as _loaded_at
    from refunds
    left join refunded_charges
        on refunds.charge_id = refunded_charges.charge_id

),

converted as (

    select
        records.record_id,
        records.record_type,
        records.customer_id,
        coalesce(accounts.segment, 'Unknown') as segment,
        records.currency,
        records.amount,
        fx_rates.rate_to_reporting,
        cast(round(records.amount * fx_rates.rate_to_reporting, 2) as decimal(18, 2))
            as amount_reporting,
        coalesce(customers.is_excluded, false) as is_excluded,
        cast(records.created_at as date) as record_date,
        records.created_at,
        records._loaded_at
    from records
    left join customers
        on records.customer_id = customers.customer_id
    left join accounts
        on customers.account_id = accounts.account_id
    left join fx_rates
        on
            records.currency = fx_rates.currency
            and cast(records.created_at as date) = fx_rates.calendar_date

),

final as (

    select
        record_id,
        record_type,
        customer_id,
        segment,
        currency,
        amount,
        rate_to_reporting,
        amount_reporting,
        record_date,
        created_at,
        _loaded_at
    from converted
    where not is_excluded

)

select * from final
