-- One row per Stripe invoice line item: the latest delivered version, the price, period and
-- first discount flattened, amounts in units. Subscription lines' service periods are the MRR
-- history (docs/EXPORTS.md).
--
-- Every Stripe API version from 2024-06-20 on, told apart per row by the fields it carries
-- (docs/EXPORTS.md, "Stripe API versions"): before 2025-03-31 a line has `type`, `price` (the
-- full object), `proration`, `subscription` and `subscription_item`; from 2025-03-31 it has
-- `parent` and `pricing` (the price id only) instead. Such a line has no price attributes
-- here (`price_type`, `recurring_interval`, `recurring_interval_count` null): staging never
-- joins, so int_invoice_lines_priced completes them from stg_stripe__prices.
--
-- Incremental on DuckDB: a run reads only raw rows loaded after the newest `_loaded_at`
-- already here, and re-ranks each of their line items among its new versions and the version
-- already here; the winner replaces that item's row (delete+insert;
-- macros/staging/stripe_latest_version.sql). The latest version by delivery wins either way,
-- so this equals a full rebuild (`--full-refresh` does one; needed after rows were removed
-- from the raw table). Other adapters rebuild it as a table: without Delta, Spark has no
-- delete+insert.
{{ config(**latest_version_config('invoice_line_item_id')) }}

with

source as (

    select
        id,
        invoice,
        subscription,
        subscription_item,
        type,
        description,
        currency,
        price,
        pricing,
        parent,
        quantity,
        amount,
        discounts,
        discount_amounts,
        proration,
        period,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('stripe', 'invoice_line_items') }}
    {{ loaded_since_last_run() }}

),

shaped as (

    -- The delivered text of each field, from wherever the row's API version puts it.
    select
        id,
        invoice,
        coalesce(subscription, {{ stripe_line_parent_field('subscription') }}) as subscription_id,
        coalesce(
            subscription_item,
            {{ json_extract_text('parent', '$.subscription_item_details.subscription_item') }}
        ) as subscription_item_id,
        -- A line from a subscription item is a `subscription` line, one from an invoice item
        -- an `invoiceitem` line (the values of `type` before 2025-03-31); another parent type
        -- is kept as delivered (the accepted_values test names it).
        -- Neither `type` nor `parent` delivered (both optional): a line of a subscription or
        -- of a recurring price is a subscription line (`is_shape_inferred` counts them).
        coalesce(
            type,
            case {{ json_extract_text('parent', '$.type') }}
                when 'subscription_item_details' then 'subscription'
                when 'invoice_item_details' then 'invoiceitem'
                else {{ json_extract_text('parent', '$.type') }}
            end,
            case
                when
                    coalesce(subscription, {{ stripe_line_parent_field('subscription') }})
                    is not null
                    or {{ stripe_line_price_attribute('type') }} = 'recurring'
                    then 'subscription'
                else 'invoiceitem'
            end
        ) as line_item_type,
        -- No proration flag delivered anywhere: not a proration (counted, as above).
        coalesce(proration, {{ stripe_line_parent_field('proration') }}, 'false') as proration,
        (type is null and parent is null)
        or coalesce(proration, {{ stripe_line_parent_field('proration') }}) is null
            as is_shape_inferred,
        -- `pricing.price_details.price` is the price id, or the price object when expanded
        -- (API 2025-12-15 and later): then the line carries the price attributes again.
        coalesce(
            {{ stripe_line_price_attribute('id') }},
            {{ json_extract_text('pricing', '$.price_details.price') }}
        ) as price_id,
        coalesce(
            {{ json_extract_text('price', '$.product') }},
            {{ json_extract_text('pricing', '$.price_details.product') }}
        ) as product_id,
        {{ stripe_line_price_attribute('type') }} as price_type,
        {{ stripe_line_price_attribute('recurring.interval') }} as recurring_interval,
        {{ stripe_line_price_attribute('recurring.interval_count') }} as recurring_interval_count,
        -- Minor units: an integer in `price.unit_amount`, a decimal string in
        -- `pricing.unit_amount_decimal`.
        coalesce(
            {{ json_extract_text('price', '$.unit_amount') }},
            {{ json_extract_text('pricing', '$.unit_amount_decimal') }},
            {{ json_extract_text('pricing', '$.price_details.price.unit_amount') }}
        ) as unit_amount,
        -- `discounts[0]` is the discount's id, or the discount object when expanded; its
        -- coupon is `coupon` before API 2025-09-30 and `source.coupon` (an id, or the coupon
        -- when expanded) from then on.
        coalesce(
            {{ json_extract_text('discounts', '$[0].id') }},
            {{ json_extract_text('discounts', '$[0]') }}
        ) as discount_id,
        coalesce(
            {{ stripe_first_discount_coupon_attribute('id') }},
            {{ json_extract_text('discounts', '$[0].source.coupon') }}
        ) as coupon_id,
        {{ stripe_first_discount_coupon_attribute('duration') }} as coupon_duration,
        {{ stripe_first_discount_coupon_attribute('percent_off') }} as percent_off,
        description,
        currency,
        quantity,
        amount,
        discount_amounts,
        period,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

renamed as (

    select
        id as invoice_line_item_id,
        invoice as invoice_id,
        subscription_id,
        subscription_item_id,
        price_id,
        product_id,
        -- The MRR rule reads the coupon of the line's (first) discount.
        discount_id,
        coupon_id,
        line_item_type,
        description,
        price_type,
        recurring_interval,
        coupon_duration,
        upper(trim(currency)) as currency,
        amount as amount_minor,
        unit_amount as unit_amount_minor,
        {{ json_array_sum('discount_amounts', 'amount') }} as discount_amount_minor,
        {{ try_cast('recurring_interval_count', 'bigint') }} as recurring_interval_count,
        {{ try_cast('quantity', 'bigint') }} as quantity,
        {{ try_cast('percent_off', 'decimal(5, 2)') }} as percent_off,
        {{ try_cast('lower(trim(proration))', 'boolean') }} as is_proration,
        is_shape_inferred,
        {{ from_unix_seconds(json_extract_text('period', '$.start')) }} as period_start_at,
        {{ from_unix_seconds(json_extract_text('period', '$.end')) }} as period_end_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from shaped

),

with_exponent as (

    {{ stripe_with_currency_exponent('renamed') }}

),

converted as (

    -- The model's columns, in their order: `final` keeps the latest version of each key.
    select
        invoice_line_item_id,
        invoice_id,
        subscription_id,
        subscription_item_id,
        price_id,
        product_id,
        discount_id,
        coupon_id,
        line_item_type,
        description,
        price_type,
        recurring_interval,
        coupon_duration,
        currency,
        {{ minor_units_to_decimal('amount_minor', 'currency_exponent') }} as amount,
        {{ minor_units_to_decimal('unit_amount_minor', 'currency_exponent') }} as unit_amount,
        {{ minor_units_to_decimal('discount_amount_minor', 'currency_exponent') }}
            as discount_amount,
        recurring_interval_count,
        quantity,
        percent_off,
        is_proration,
        is_shape_inferred,
        period_start_at,
        period_end_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from with_exponent

),

final as (

    {{ stripe_latest_version('converted', 'invoice_line_item_id') }}

)

select * from final
