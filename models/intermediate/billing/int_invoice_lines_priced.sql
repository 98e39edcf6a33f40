-- One row per Stripe invoice line item with its price attributes complete, whichever API
-- version delivered it. A line delivered before API 2025-03-31 carries the full price object;
-- from 2025-03-31 it carries the price id only (`pricing.price_details.price`), so its price
-- type, interval, interval count and product come from stg_stripe__prices (and its unit amount
-- too, when the line has no `pricing.unit_amount_decimal` and the price is in the line's
-- currency). The line's own values always win. A percentage coupon the line names only by id
-- (API 2025-09-30 and later, unexpanded) gets its percent off and duration from
-- stg_stripe__coupons. `price_attributes_source` says where the attributes came from: `line`,
-- `price`, or `unknown` (the price id is not in the prices export: counted by a warning check).
-- Incremental on DuckDB: a run recomputes only the lines whose line, price or coupon row was
-- loaded after the newest `_loaded_at` here (the latest of the three, kept per line), and
-- replaces their rows (delete+insert); staging keeps each key's latest version, so a line's
-- inputs change only with a later load (a raw removal rebuilds it: revops/incremental.py).
{{ config(**latest_version_config('invoice_line_item_id')) }}

with

line_items as (

    select
        invoice_line_item_id,
        invoice_id,
        subscription_id,
        subscription_item_id,
        price_id,
        product_id,
        coupon_id,
        line_item_type,
        price_type,
        recurring_interval,
        coupon_duration,
        currency,
        amount,
        unit_amount,
        discount_amount,
        recurring_interval_count,
        quantity,
        percent_off,
        is_proration,
        period_start_at,
        period_end_at,
        _loaded_at
    from {{ ref('stg_stripe__invoice_line_items') }}

),

prices as (

    select
        price_id,
        product_id,
        price_type,
        recurring_interval,
        currency,
        unit_amount,
        recurring_interval_count,
        _loaded_at
    from {{ ref('stg_stripe__prices') }}

),

coupons as (

    select
        coupon_id,
        coupon_duration,
        percent_off,
        _loaded_at
    from {{ ref('stg_stripe__coupons') }}

),

priced as (

    select
        line_items.invoice_line_item_id,
        line_items.invoice_id,
        line_items.subscription_id,
        line_items.subscription_item_id,
        line_items.price_id,
        coalesce(line_items.product_id, prices.product_id) as product_id,
        line_items.coupon_id,
        line_items.line_item_type,
        case
            when line_items.price_type is not null then 'line'
            when prices.price_id is not null then 'price'
            else 'unknown'
        end as price_attributes_source,
        coalesce(line_items.price_type, prices.price_type) as price_type,
        -- A line that carries its price object carries its interval too (null for a
        -- one-time price): only a line without one takes the price's.
        case
            when line_items.price_type is not null then line_items.recurring_interval
            else prices.recurring_interval
        end as recurring_interval,
        coalesce(line_items.coupon_duration, coupons.coupon_duration) as coupon_duration,
        line_items.currency,
        line_items.amount,
        coalesce(
            line_items.unit_amount,
            case when prices.currency = line_items.currency then prices.unit_amount end
        ) as unit_amount,
        line_items.discount_amount,
        case
            when line_items.price_type is not null then line_items.recurring_interval_count
            else prices.recurring_interval_count
        end as recurring_interval_count,
        line_items.quantity,
        coalesce(line_items.percent_off, coupons.percent_off) as percent_off,
        line_items.is_proration,
        line_items.period_start_at,
        line_items.period_end_at,
        -- The latest load among the line's inputs: an incremental run's watermark.
        greatest(
            line_items._loaded_at,
            coalesce(prices._loaded_at, line_items._loaded_at),
            coalesce(coupons._loaded_at, line_items._loaded_at)
        ) as _loaded_at
    from line_items
    left join prices
        on line_items.price_id = prices.price_id
    left join coupons
        on line_items.coupon_id = coupons.coupon_id
    {%- if is_incremental() %}
    where
        line_items._loaded_at > ({{ newest_loaded_at() }})
        or prices._loaded_at > ({{ newest_loaded_at() }})
        or coupons._loaded_at > ({{ newest_loaded_at() }})
    {%- endif %}

),

final as (

    select
        invoice_line_item_id,
        invoice_id,
        subscription_id,
        subscription_item_id,
        price_id,
        product_id,
        coupon_id,
        line_item_type,
        price_attributes_source,
        price_type,
        recurring_interval,
        coupon_duration,
        currency,
        amount,
        unit_amount,
        discount_amount,
        recurring_interval_count,
        quantity,
        percent_off,
        is_proration,
        period_start_at,
        period_end_at,
        _loaded_at
    from priced

)

select * from final
