-- One row per Stripe subscription item: the latest delivered version, deletes flagged, the
-- price flattened with its amount in units. From Stripe API 2025-03-31 on, the item carries the
-- billing period (`current_period_start` / `_end`, on the subscription before): null for rows
-- delivered in an older version (docs/EXPORTS.md, "Stripe API versions").
with

source as (

    select
        id,
        subscription,
        price,
        quantity,
        deleted,
        current_period_start,
        current_period_end,
        created,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('stripe', 'subscription_items') }}

),

renamed as (

    select
        id as subscription_item_id,
        subscription as subscription_id,
        {{ json_extract_text('price', '$.id') }} as price_id,
        {{ json_extract_text('price', '$.product') }} as product_id,
        {{ json_extract_text('price', '$.type') }} as price_type,
        {{ json_extract_text('price', '$.recurring.interval') }} as recurring_interval,
        upper(trim({{ json_extract_text('price', '$.currency') }})) as currency,
        {{ json_extract_text('price', '$.unit_amount') }} as unit_amount_minor,
        {{ try_cast(json_extract_text('price', '$.recurring.interval_count'), 'bigint') }}
            as recurring_interval_count,
        {{ try_cast('quantity', 'bigint') }} as quantity,
        {{ stripe_deleted_flag('deleted') }} as is_deleted,
        {{ from_unix_seconds('created') }} as created_at,
        {{ from_unix_seconds('current_period_start') }} as current_period_start_at,
        {{ from_unix_seconds('current_period_end') }} as current_period_end_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

with_exponent as (

    {{ latest_with_currency_exponent('renamed', 'subscription_item_id') }}

),

final as (

    select
        subscription_item_id,
        subscription_id,
        price_id,
        product_id,
        price_type,
        recurring_interval,
        currency,
        {{ minor_units_to_decimal('unit_amount_minor', 'currency_exponent') }} as unit_amount,
        recurring_interval_count,
        quantity,
        is_deleted,
        created_at,
        current_period_start_at,
        current_period_end_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from with_exponent

)

select * from final
