-- One row per Stripe subscription per delivery day: the subscription as it stood at the end of
-- that day (every delivered version, duplicates within a delivery removed). Billing history
-- (status, trial, cancellation, discount over time) reads it; stg_stripe__subscriptions is its
-- latest version.
--
-- Every Stripe API version from 2024-06-20 on, told apart per row by the fields it carries
-- (docs/EXPORTS.md, "Stripe API versions"): from 2025-03-31 a subscription has `discounts` (ids,
-- or objects when expanded) instead of `discount`, and no `current_period_start` / `_end`
-- (they moved to the subscription items: stg_stripe__subscription_items), so those are null.
--
-- Incremental on DuckDB: a run reads only the raw rows loaded since the newest `_loaded_at`
-- already here; each subscription among them is recomputed from its new lines and its versions
-- already here (the line kept for a delivery day beat every earlier line of that day), and its
-- rows replace the stored ones (delete+insert on `subscription_id`): the same versions, chain
-- and latest flag as a rebuild. An older version's `valid_to_date` / `is_latest_version` change
-- when a later delivery arrives; the row keeps its own `_loaded_at` (no row test reads those
-- two beyond not_null). Other adapters rebuild it as a table.
{{ config(**latest_version_config('subscription_id')) }}

with

source as (

    select
        id,
        customer,
        status,
        currency,
        discount,
        discounts,
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
    {{ loaded_since_last_run() }}

),

shaped as (

    -- The subscription's (first) discount, from wherever the row's API version puts it:
    -- `discount` (an object) before 2025-03-31, `discounts[0]` (an id, or the object when
    -- expanded) from then on. The coupon is `coupon` (an id or, expanded, an object) before
    -- 2025-09-30 and `source.coupon` from then on.
    select
        *,
        coalesce(
            {{ json_extract_text('discount', '$.id') }},
            {{ json_extract_text('discounts', '$[0].id') }},
            {{ json_extract_text('discounts', '$[0]') }}
        ) as first_discount_id,
        coalesce(
            {{ json_extract_text('discount', '$.coupon.id') }},
            {{ json_extract_text('discount', '$.coupon') }},
            {{ json_extract_text('discounts', '$[0].coupon.id') }},
            {{ json_extract_text('discounts', '$[0].coupon') }},
            {{ json_extract_text('discounts', '$[0].source.coupon.id') }},
            {{ json_extract_text('discounts', '$[0].source.coupon') }}
        ) as first_coupon_id,
        coalesce(
            {{ json_extract_text('discount', '$.start') }},
            {{ json_extract_text('discounts', '$[0].start') }}
        ) as first_discount_start,
        coalesce(
            {{ json_extract_text('discount', '$.end') }},
            {{ json_extract_text('discounts', '$[0].end') }}
        ) as first_discount_end
    from source

),

renamed as (

    select
        id as subscription_id,
        customer as customer_id,
        first_discount_id as discount_id,
        first_coupon_id as coupon_id,
        status as subscription_status,
        upper(trim(currency)) as currency,
        {{ try_cast('lower(trim(cancel_at_period_end))', 'boolean') }}
            as is_canceling_at_period_end,
        {{ stripe_deleted_flag('deleted') }} as is_deleted,
        {{ from_unix_seconds('created') }} as created_at,
        {{ from_unix_seconds('start_date') }} as started_at,
        {{ from_unix_seconds('current_period_start') }} as current_period_start_at,
        {{ from_unix_seconds('current_period_end') }} as current_period_end_at,
        {{ from_unix_seconds('billing_cycle_anchor') }} as billing_cycle_anchor_at,
        {{ from_unix_seconds('canceled_at') }} as canceled_at,
        {{ from_unix_seconds('ended_at') }} as ended_at,
        {{ from_unix_seconds('trial_start') }} as trial_start_at,
        {{ from_unix_seconds('trial_end') }} as trial_end_at,
        {{ from_unix_seconds('first_discount_start') }} as discount_start_at,
        {{ from_unix_seconds('first_discount_end') }} as discount_end_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from shaped

),

candidates as (

    -- The new lines and, on an incremental run, the versions already here of their
    -- subscriptions, as delivered rows (columns matched by name; `final` derives the rest).
    select * from renamed
    {%- if is_incremental() %}
    {{ union_all_by_name() }}
    select {{ star_except(stripe_subscription_version_columns()) }}
    from {{ this }} as current_versions
    where current_versions.subscription_id in (select subscription_id from renamed)
    {%- endif %}

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
    from candidates

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
