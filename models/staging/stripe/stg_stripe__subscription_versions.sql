-- One row per Stripe subscription per delivery day: the subscription as it stood at the end of
-- that day (every delivered version, duplicates within a delivery removed). Billing history
-- (status, trial, cancellation, discount over time) reads it; stg_stripe__subscriptions is its
-- latest version.
with

source as (

    select
        id,
        customer,
        status,
        currency,
        discount,
        cancel_at_period_end,
        deleted,
        created,
        start_date,
        current_period_start,
        current_period_end,
        billing_cycle_anchor,
        canceled_at,
        ended_at,
        trial_start,
        trial_end,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('stripe', 'subscriptions') }}

),

renamed as (

    select
        id as subscription_id,
        customer as customer_id,
        {{ json_extract_text('discount', '$.id') }} as discount_id,
        -- The API gives the coupon as an id or, expanded, as an object.
        coalesce(
            {{ json_extract_text('discount', '$.coupon.id') }},
            {{ json_extract_text('discount', '$.coupon') }}
        ) as coupon_id,
        status as subscription_status,
        upper(trim(currency)) as currency,
        {{ try_cast('lower(trim(cancel_at_period_end))', 'boolean') }}
            as is_canceling_at_period_end,
        case
            when nullif(trim(deleted), '') is null then false
            else {{ try_cast('lower(trim(deleted))', 'boolean') }}
        end as is_deleted,
        {{ from_unix_seconds('created') }} as created_at,
        {{ from_unix_seconds('start_date') }} as started_at,
        {{ from_unix_seconds('current_period_start') }} as current_period_start_at,
        {{ from_unix_seconds('current_period_end') }} as current_period_end_at,
        {{ from_unix_seconds('billing_cycle_anchor') }} as billing_cycle_anchor_at,
        {{ from_unix_seconds('canceled_at') }} as canceled_at,
        {{ from_unix_seconds('ended_at') }} as ended_at,
        {{ from_unix_seconds('trial_start') }} as trial_start_at,
        {{ from_unix_seconds('trial_end') }} as trial_end_at,
        {{ from_unix_seconds(json_extract_text('discount', '$.start')) }} as discount_start_at,
        {{ from_unix_seconds(json_extract_text('discount', '$.end')) }} as discount_end_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    -- Within a delivery the last line wins (later file, later row, later load).
    select
        *,
        row_number() over (
            partition by subscription_id, _delivery_date
            order by
                _file_path desc,
                _row_number desc,
                _loaded_at desc
        ) as line_rank
    from renamed

),

versions as (

    select
        *,
        lead(_delivery_date) over (
            partition by subscription_id
            order by _delivery_date
        ) as next_delivery_date
    from ranked
    where line_rank = 1

),

final as (

    select
        {{ surrogate_key(["subscription_id", "_delivery_date"]) }} as subscription_version_id,
        subscription_id,
        customer_id,
        discount_id,
        coupon_id,
        subscription_status,
        currency,
        is_canceling_at_period_end,
        is_deleted,
        next_delivery_date is null as is_latest_version,
        _delivery_date as valid_from_date,
        next_delivery_date as valid_to_date,
        created_at,
        started_at,
        current_period_start_at,
        current_period_end_at,
        billing_cycle_anchor_at,
        canceled_at,
        ended_at,
        trial_start_at,
        trial_end_at,
        discount_start_at,
        discount_end_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from versions

)

select * from final
