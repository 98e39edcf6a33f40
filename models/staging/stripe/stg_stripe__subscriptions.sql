-- One row per Stripe subscription: the latest delivered version, deletes flagged. The latest
-- row of stg_stripe__subscription_versions, which parses the raw objects once for both.
with

subscription_versions as (

    select * from {{ ref('stg_stripe__subscription_versions') }}

),

final as (

    select
        subscription_id,
        customer_id,
        discount_id,
        coupon_id,
        subscription_status,
        currency,
        is_canceling_at_period_end,
        is_deleted,
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
    from subscription_versions
    where is_latest_version

)

select * from final
