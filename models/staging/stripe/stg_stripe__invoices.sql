-- One row per Stripe invoice: the latest delivered version, amounts in units. Invoices are
-- voided (`invoice_status` = `void`), never deleted. Every Stripe API version from 2024-06-20
-- on, told apart per row by the fields it carries (docs/EXPORTS.md, "Stripe API versions"):
-- from 2025-03-31 the subscription is `parent.subscription_details.subscription` and the tax
-- is the sum of `total_taxes`.
--
-- Incremental on DuckDB: a run reads only the raw rows loaded since the newest `_loaded_at`
-- already here and re-ranks each of their invoices among its new versions and the
-- version already here; the winner replaces the row (delete+insert), as a rebuild would pick
-- it (macros/staging/stripe_latest_version.sql). Other adapters rebuild it as a table.
{{ config(**latest_version_config('invoice_id')) }}

with

source as (

    select
        id,
        customer,
        subscription,
        {{ adapter.quote('number') }} as invoice_number,
        status,
        billing_reason,
        currency,
        subtotal,
        total_discount_amounts,
        tax,
        total_taxes,
        parent,
        total,
        amount_due,
        amount_paid,
        amount_remaining,
        created,
        period_start,
        period_end,
        status_transitions,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('stripe', 'invoices') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        id as invoice_id,
        customer as customer_id,
        coalesce(
            subscription,
            {{ json_extract_text('parent', '$.subscription_details.subscription') }}
        ) as subscription_id,
        invoice_number,
        status as invoice_status,
        billing_reason,
        upper(trim(currency)) as currency,
        subtotal as subtotal_minor,
        {{ json_array_sum('total_discount_amounts', 'amount') }} as discount_amount_minor,
        -- `tax` before 2025-03-31; from then on the sum of `total_taxes` (0 for an empty list).
        coalesce(
            {{ try_cast('tax', 'bigint') }},
            {{ json_array_sum('total_taxes', 'amount') }}
        ) as tax_minor,
        total as total_minor,
        amount_due as amount_due_minor,
        amount_paid as amount_paid_minor,
        amount_remaining as amount_remaining_minor,
        {{ from_unix_seconds('created') }} as created_at,
        {{ from_unix_seconds('period_start') }} as period_start_at,
        {{ from_unix_seconds('period_end') }} as period_end_at,
        {{ from_unix_seconds(json_extract_text('status_transitions', '$.finalized_at')) }}
            as finalized_at,
        {{ from_unix_seconds(json_extract_text('status_transitions', '$.paid_at')) }}
            as paid_at,
        {{ from_unix_seconds(json_extract_text('status_transitions', '$.voided_at')) }}
            as voided_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

with_exponent as (

    {{ stripe_with_currency_exponent('renamed') }}

),

converted as (

    -- The model's columns, in their order: `final` keeps the latest version of each key.
    select
        invoice_id,
        customer_id,
        subscription_id,
        invoice_number,
        invoice_status,
        billing_reason,
        currency,
        {{ minor_units_to_decimal('subtotal_minor', 'currency_exponent') }} as subtotal_amount,
        {{ minor_units_to_decimal('discount_amount_minor', 'currency_exponent') }}
            as discount_amount,
        {{ minor_units_to_decimal('tax_minor', 'currency_exponent') }} as tax_amount,
        {{ minor_units_to_decimal('total_minor', 'currency_exponent') }} as total_amount,
        {{ minor_units_to_decimal('amount_due_minor', 'currency_exponent') }} as amount_due,
        {{ minor_units_to_decimal('amount_paid_minor', 'currency_exponent') }} as amount_paid,
        {{ minor_units_to_decimal('amount_remaining_minor', 'currency_exponent') }}
            as amount_remaining,
        created_at,
        period_start_at,
        period_end_at,
        finalized_at,
        paid_at,
        voided_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from with_exponent

),

final as (

    {{ stripe_latest_version('converted', 'invoice_id') }}

)

select * from final
