-- One row per Stripe subscription: the latest delivered version, deletes flagged. The latest
-- row of stg_stripe__subscription_versions, which parses the raw objects once for both.
with

subscription_versions as (

    select * from {{ ref('stg_stripe__subscription_versions') }}

),

final as (

    -- Every column of the version but the ones derived from the chain of versions (the
    -- versions model lists them; sqlfluff cannot see through the ref, hence AM04 below).
    select {{ star_except(stripe_subscription_version_columns()) }}
    from subscription_versions
    where is_latest_version

)

select * from final  -- noqa: AM04
