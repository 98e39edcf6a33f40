-- One row per Stripe charge: the latest delivered version, amounts in units.
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

),

currency_exponents as (

    -- Reference lookup, not a join of entities: the minor-unit exponent of each currency
    -- (docs/DECISIONLOG.md, "Stripe minor units in staging").
    select
        currency_code,
        exponent
    from {{ ref('currency_exponents') }}

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

ranked as (

    select
        *,
        {{ latest_version_rank('charge_id') }} as version_rank
    from renamed

),

latest as (

    select * from ranked
    where version_rank = 1

),

with_exponent as (

    select
        latest.*,
        currency_exponents.exponent as currency_exponent
    from latest
    left join currency_exponents
        on latest.currency = currency_exponents.currency_code

),

final as (

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

)

select * from final
