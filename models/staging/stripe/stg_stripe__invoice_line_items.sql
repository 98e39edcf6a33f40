-- One row per Stripe invoice line item: the latest delivered version, the price, period and
-- first discount flattened, amounts in units. Subscription lines' service periods are the MRR
-- history (docs/EXPORTS.md).
--
-- Incremental on DuckDB: a run reads only raw rows loaded after the newest `_loaded_at`
-- already here, and re-ranks each of their line items among its new versions and the version
-- already here; the winner replaces that item's row (delete+insert). The latest version by
-- delivery wins either way, so this equals a full rebuild (`--full-refresh` does one; needed
-- after rows were removed from the raw table). Other adapters rebuild it as a table: without
-- Delta, Spark has no delete+insert.
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

currency_exponents as (

    -- Reference lookup, not a join of entities: the minor-unit exponent of each currency
    -- (docs/DECISIONLOG.md, "Stripe minor units in staging").
    select
        currency_code,
        exponent
    from {{ ref('currency_exponents') }}

),

renamed as (

    select
        id as invoice_line_item_id,
        invoice as invoice_id,
        subscription as subscription_id,
        subscription_item as subscription_item_id,
        {{ json_extract_text('price', '$.id') }} as price_id,
        {{ json_extract_text('price', '$.product') }} as product_id,
        -- The MRR rule reads the coupon of the line's (first) discount.
        {{ json_extract_text('discounts', '$[0].id') }} as discount_id,
        {{ json_extract_text('discounts', '$[0].coupon.id') }} as coupon_id,
        type as line_item_type,
        description,
        {{ json_extract_text('price', '$.type') }} as price_type,
        {{ json_extract_text('price', '$.recurring.interval') }} as recurring_interval,
        {{ json_extract_text('discounts', '$[0].coupon.duration') }} as coupon_duration,
        upper(trim(currency)) as currency,
        amount as amount_minor,
        {{ json_extract_text('price', '$.unit_amount') }} as unit_amount_minor,
        {{ json_array_sum('discount_amounts', 'amount') }} as discount_amount_minor,
        {{ try_cast(json_extract_text('price', '$.recurring.interval_count'), 'bigint') }}
            as recurring_interval_count,
        {{ try_cast('quantity', 'bigint') }} as quantity,
        {{ try_cast(json_extract_text('discounts', '$[0].coupon.percent_off'), 'decimal(5, 2)') }}
            as percent_off,
        {{ try_cast('lower(trim(proration))', 'boolean') }} as is_proration,
        {{ from_unix_seconds(json_extract_text('period', '$.start')) }} as period_start_at,
        {{ from_unix_seconds(json_extract_text('period', '$.end')) }} as period_end_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

with_exponent as (

    select
        renamed.*,
        currency_exponents.exponent as currency_exponent
    from renamed
    left join currency_exponents
        on renamed.currency = currency_exponents.currency_code

),

converted as (

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
        period_start_at,
        period_end_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from with_exponent

),

candidates as (

    {{ with_current_versions('converted', 'invoice_line_item_id') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by invoice_line_item_id
            order by
                _delivery_date desc,
                _file_path desc,
                _row_number desc,
                _loaded_at desc
        ) as version_rank
    from candidates

),

final as (

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
        amount,
        unit_amount,
        discount_amount,
        recurring_interval_count,
        quantity,
        percent_off,
        is_proration,
        period_start_at,
        period_end_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
