-- One row per Stripe price: the latest delivered version, deletes flagged, amounts in units.
with

source as (

    select
        id,
        product,
        nickname,
        type,
        recurring,
        currency,
        unit_amount,
        active,
        deleted,
        created,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('stripe', 'prices') }}

),

renamed as (

    select
        id as price_id,
        product as product_id,
        nickname as price_nickname,
        type as price_type,
        {{ json_extract_text('recurring', '$.interval') }} as recurring_interval,
        upper(trim(currency)) as currency,
        unit_amount as unit_amount_minor,
        {{ try_cast(json_extract_text('recurring', '$.interval_count'), 'bigint') }}
            as recurring_interval_count,
        {{ try_cast('lower(trim(active))', 'boolean') }} as is_active,
        {{ stripe_deleted_flag('deleted') }} as is_deleted,
        {{ from_unix_seconds('created') }} as created_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

with_exponent as (

    {{ latest_with_currency_exponent('renamed', 'price_id') }}

),

final as (

    select
        price_id,
        product_id,
        price_nickname,
        price_type,
        recurring_interval,
        currency,
        {{ minor_units_to_decimal('unit_amount_minor', 'currency_exponent') }} as unit_amount,
        recurring_interval_count,
        is_active,
        is_deleted,
        created_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from with_exponent

)

select * from final
