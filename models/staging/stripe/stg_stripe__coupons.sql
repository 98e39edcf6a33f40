-- One row per Stripe coupon: the latest delivered version, deletes flagged, fixed amounts in
-- units.
with

source as (

    select
        id,
        name,
        duration,
        currency,
        percent_off,
        amount_off,
        duration_in_months,
        valid,
        deleted,
        created,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('stripe', 'coupons') }}

),

renamed as (

    select
        id as coupon_id,
        name as coupon_name,
        duration as coupon_duration,
        -- Only fixed-amount coupons have a currency.
        upper(trim(currency)) as currency,
        {{ try_cast('percent_off', 'decimal(5, 2)') }} as percent_off,
        amount_off as amount_off_minor,
        {{ try_cast('duration_in_months', 'bigint') }} as duration_in_months,
        {{ try_cast('lower(trim(valid))', 'boolean') }} as is_valid,
        {{ stripe_deleted_flag('deleted') }} as is_deleted,
        {{ from_unix_seconds('created') }} as created_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

with_exponent as (

    {{ latest_with_currency_exponent('renamed', 'coupon_id') }}

),

final as (

    select
        coupon_id,
        coupon_name,
        coupon_duration,
        currency,
        percent_off,
        {{ minor_units_to_decimal('amount_off_minor', 'currency_exponent') }} as amount_off,
        duration_in_months,
        is_valid,
        is_deleted,
        created_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from with_exponent

)

select * from final
