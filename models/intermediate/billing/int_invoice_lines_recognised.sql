-- One row per subscription invoice line x month of billing history its service period overlaps:
-- the line's amount net of discount (finalized, non-void invoices; test and internal customers
-- excluded), converted at the rate of the invoice's created day and rounded to the cent, spread
-- evenly over the days of [period_start, period_end) and attributed to months by day. Cumulative
-- rounding makes a line's monthly parts sum exactly to its converted amount when the whole
-- period lies within history; a period of zero days is recognised in its start month.
-- Incremental by invoice line (macros/billing/affected_keys.sql): a run recomputes only the
-- affected lines (new or changed inputs, gone, or overlapping a new month of history) with
-- all their months; `_inputs_signature` records what each line's rows were built from. The
-- pre-hooks find the affected lines once and keep them for this SQL (kept_affected_keys).
{{ config(**affected_keys_config([
    "{{ revops.invoice_lines_recognised_keep_affected() }}",
    "{{ revops.invoice_lines_recognised_delete_affected() }}",
])) }}

with

months as (

    select
        month_start_date,
        month_end_date
    from {{ ref('int_billing_months') }}

),

converted as (

    -- Each covered line (finalized, non-void invoice, not a test or internal customer) with
    -- its amount converted at the invoice day's rate; on an incremental run, only the
    -- affected lines (found by the pre-hook).
    {%- if is_incremental() %}
    {{ recognisable_invoice_lines(among=kept_affected_keys_relation(
        'lines', invoice_lines_recognised_affected_lines_now()
    )) }}
    {%- else %}
    {{ recognisable_invoice_lines() }}
    {%- endif %}

),

signatures as (

    {{ recognised_line_signatures('converted') }}

),

with_days as (

    select
        *,
        {{ dbt.datediff('period_start_date', 'period_end_date', 'day') }} as period_days  -- noqa: LT05
    from converted

),

overlapping as (

    select
        with_days.invoice_line_item_id,
        with_days.customer_id,
        with_days.segment,
        with_days.amount_reporting,
        with_days.period_days,
        case
            when with_days.period_start_date > months.month_start_date
                then with_days.period_start_date
            else months.month_start_date
        end as overlap_start_date,
        case
            when with_days.period_end_date <= months.month_end_date
                then with_days.period_end_date
            else cast({{ dbt.dateadd('day', 1, 'months.month_end_date') }} as date)
        end as overlap_end_date,
        months.month_start_date
    from with_days
    inner join months
        on
            with_days.period_start_date <= months.month_end_date
            and (
                with_days.period_end_date > months.month_start_date
                or (
                    with_days.period_days <= 0
                    and with_days.period_start_date >= months.month_start_date
                )
            )

),

with_month_days as (

    select
        invoice_line_item_id,
        customer_id,
        segment,
        amount_reporting,
        period_days,
        case
            when period_days <= 0 then 1
            else {{ dbt.datediff('overlap_start_date', 'overlap_end_date', 'day') }}
        end as days_in_month,
        month_start_date
    from overlapping

),

cumulated as (

    select
        with_month_days.invoice_line_item_id,
        with_month_days.customer_id,
        with_month_days.segment,
        with_month_days.amount_reporting,
        with_month_days.period_days,
        with_month_days.days_in_month,
        with_month_days.month_start_date,
        signatures.inputs_signature,
        sum(with_month_days.days_in_month) over (
            partition by with_month_days.invoice_line_item_id
            order by with_month_days.month_start_date
            rows between unbounded preceding and current row
        ) as days_through_month,
        case
            when with_month_days.period_days <= 0 then 1 else with_month_days.period_days
        end as spread_days,
        cast(with_month_days.amount_reporting * 100 as bigint) as amount_cents,
        case when with_month_days.amount_reporting < 0 then -1 else 1 end as amount_sign
    from with_month_days
    inner join signatures
        on with_month_days.invoice_line_item_id = signatures.invoice_line_item_id

),

final as (

    select
        invoice_line_item_id,
        customer_id,
        segment,
        amount_reporting,
        days_in_month,
        spread_days as period_days,
        -- Exact on every engine: cents recognised through this month minus through the last,
        -- each rounded half away from zero in integer arithmetic (a decimal division is a
        -- DOUBLE on DuckDB and a rounded decimal on Spark, which differ by a cent at halves).
        cast(
            (
                {{ divide_round_half_up(["abs(amount_cents)", "days_through_month"], "spread_days") }}  -- noqa: LT05
                - {{ divide_round_half_up(
                    ["abs(amount_cents)", "days_through_month - days_in_month"], "spread_days"
                ) }}
            ) * amount_sign * 0.01
            as decimal(18, 2)
        ) as recognised_revenue,
        month_start_date as month,  -- noqa: RF04
        inputs_signature as _inputs_signature
    from cumulated

)

select * from final
