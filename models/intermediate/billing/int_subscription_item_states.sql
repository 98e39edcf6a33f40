-- One row per Stripe subscription line that can be a subscription item's state: a
-- `subscription` line with a non-negative amount, covering [period_start_at, period_end_at).
-- At an instant, an item's state is the covering line with the latest period start (a proration
-- line supersedes the regular line it starts inside). Its monthly value is kept exact as
-- `monthly_value_x1200` (docs/METRICS.md, "Billing: MRR and movements"). The price attributes
-- come from int_invoice_lines_priced, whichever Stripe API version delivered the line.
-- Incremental on DuckDB: one row per line of int_invoice_lines_priced, built from that line
-- alone, so a run deletes the rows of the lines priced again since the newest `_loaded_at` here
-- (pre-hook: a line that no longer qualifies loses its row) and appends those lines' rows.
{{ config(**affected_keys_config([
    "{{ revops.subscription_item_states_pre_hook() }}",
])) }}

with

line_items as (

    select
        invoice_line_item_id,
        subscription_id,
        subscription_item_id,
        price_id,
        recurring_interval,
        currency,
        unit_amount,
        amount,
        recurring_interval_count,
        quantity,
        percent_off,
        is_proration,
        period_start_at,
        period_end_at,
        _loaded_at
    from {{ ref('int_invoice_lines_priced') }}
    where
        line_item_type = 'subscription'
        and amount >= 0
        and subscription_item_id is not null
        -- A line whose price is in neither the line nor the prices export has no value: left
        -- out, and counted by int_invoice_lines_priced's warning check.
        and price_attributes_source != 'unknown'

),

valued as (

    select
        invoice_line_item_id,
        subscription_id,
        subscription_item_id,
        price_id,
        recurring_interval,
        currency,
        unit_amount,
        amount,
        recurring_interval_count,
        quantity,
        coalesce(percent_off, 0) as percent_off,
        coalesce(is_proration, false) as is_proration,
        amount = 0 as is_trial,
        period_start_at,
        period_end_at,
        _loaded_at,
        -- 1,200 x the monthly value in the line's currency. The monthly value is
        -- unit x quantity x (1 - pct / 100) x (intervals per year) / 12, so 1,200 x it is
        -- unit x quantity x (100 - pct) x (intervals per year): only multiplications, exact in
        -- a decimal (intervals per year: 12 / count for months, 1 / count for years,
        -- 52 / count for weeks, 365 / count for days; exact when the count divides it).
        case
            when amount = 0 then cast(0 as decimal(38, 10))
            else cast(
                unit_amount
                * quantity
                * (100 - coalesce(percent_off, 0))
                * cast(
                    -- Exact when the count divides the factor; otherwise 10 decimal places.
                    case recurring_interval
                        when 'month' then 12
                        when 'year' then 1
                        when 'week' then 52
                        when 'day' then 365
                    end
                    / recurring_interval_count
                    as decimal(38, 10)
                )
                as decimal(38, 10)
            )
        end as monthly_value_x1200
    from line_items
    {%- if is_incremental() %}
    -- the lines priced since the newest row here, and not stored (the pre-hook deleted the
    -- stored rows of every line priced again)
    where
        _loaded_at > ({{ newest_loaded_at() }})
        and {{ key_not_stored('invoice_line_item_id') }}
    {%- endif %}

),

final as (

    select
        invoice_line_item_id,
        subscription_id,
        subscription_item_id,
        price_id,
        recurring_interval,
        currency,
        unit_amount,
        amount,
        recurring_interval_count,
        quantity,
        percent_off,
        monthly_value_x1200,
        is_proration,
        is_trial,
        period_start_at,
        period_end_at,
        _loaded_at
    from valued

)

select * from final
