-- One row per Stripe charge: the latest delivered version, amounts in units.
--
-- Incremental on DuckDB: a run reads only the raw rows loaded since the newest `_loaded_at`
-- already here and re-ranks each of their charges among its new versions and the
-- version already here; the winner replaces the row (delete+insert), as a rebuild would pick
-- it (macros/staging/stripe_latest_version.sql). Other adapters rebuild it as a table.
{{ config(**latest_version_config('charge_id')) }}

with

source as (

    select
        id,
        customer,
        invoice,
        status,
        failure_code,
        failure_message,
        currency,
        amount,
        amount_captured,
        amount_refunded,
        paid,
        refunded,
        created,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('stripe', 'charges') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        id as charge_id,
        customer as customer_id,
        invoice as invoice_id,
        status as charge_status,
        failure_code,
        failure_message,
        upper(trim(currency)) as currency,
        amount as amount_minor,
        amount_captured as amount_captured_minor,
        amount_refunded as amount_refunded_minor,
        {{ try_cast('lower(trim(paid))', 'boolean') }} as is_paid,
        {{ try_cast('lower(trim(refunded))', 'boolean') }} as is_refunded,
        {{ from_unix_seconds('created') }} as created_at,
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
        charge_id,
        customer_id,
        invoice_id,
        charge_status,
        failure_code,
        failure_message,
        currency,
        {{ minor_units_to_decimal('amount_minor', 'currency_exponent') }} as amount,
        {{ minor_units_to_decimal('amount_captured_minor', 'currency_exponent') }}
            as amount_captured,
        {{ minor_units_to_decimal('amount_refunded_minor', 'currency_exponent') }}
            as amount_refunded,
        is_paid,
        is_refunded,
        created_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from with_exponent

),

final as (

    {{ stripe_latest_version('converted', 'charge_id') }}

)

select * from final
