-- One row per Stripe refund: the latest delivered version, amount in units.
with

source as (

    select
        id,
        charge,
        status,
        reason,
        currency,
        amount,
        created,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('stripe', 'refunds') }}

),

renamed as (

    select
        id as refund_id,
        charge as charge_id,
        status as refund_status,
        reason as refund_reason,
        upper(trim(currency)) as currency,
        amount as amount_minor,
        {{ from_unix_seconds('created') }} as created_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

with_exponent as (

    {{ latest_with_currency_exponent('renamed', 'refund_id') }}

),

final as (

    select
        refund_id,
        charge_id,
        refund_status,
        refund_reason,
        currency,
        {{ minor_units_to_decimal('amount_minor', 'currency_exponent') }} as amount,
        created_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from with_exponent

)

select * from final
