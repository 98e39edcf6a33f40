-- Warning: one row per object x currency x span of days without a usable FX rate (none
-- published on or within `fx_max_staleness_days` before the day, int_fx_rates_daily) that
-- holds amounts left unconverted: opportunity amounts (close date), customer MRR (month
-- reference date), invoices, charges and refunds (created day), ad spend (report day) and
-- expenses (month). Their converted amounts are null, never 0, and the metric marts count them
-- per month. `has_any_rate` is false for a currency without a single published rate.
-- Severity warn here as well as in _singular_tests.yml: dbt's partial parse drops a singular
-- test's YAML config when only its SQL changed, and this check must never block.
{{ config(severity='warn') }}
{%- set reporting_currency = setting('reporting_currency') %}
with

fx_rates as (

    select
        currency,
        calendar_date
    from {{ ref('int_fx_rates_daily') }}

),

published_currencies as (

    select distinct base_currency as currency
    from {{ ref('stg_reference__fx_rates') }}
    where quote_currency = '{{ reporting_currency }}'
    union all
    select '{{ reporting_currency }}' as currency

),

days as (

    select calendar_date from {{ ref('util_days') }}

),

expenses as (

    select
        expenses.currency,
        expenses.month_start_date
    from {{ ref('stg_reference__expenses') }} as expenses
    left join fx_rates
        on
            expenses.currency = fx_rates.currency
            and expenses.month_start_date = fx_rates.calendar_date
    where expenses.amount is not null and fx_rates.calendar_date is null

),

unconverted as (

    select
        'opportunities' as object_name,
        currency,
        close_date as amount_date
    from {{ ref('int_opportunities_enriched') }}
    where amount is not null and amount_reporting is null
    union all
    select
        'customer MRR' as object_name,
        currency,
        reference_date as amount_date
    from {{ ref('int_mrr_customer_months') }}
    where mrr is null
    union all
    select
        record_type as object_name,
        currency,
        record_date as amount_date
    from {{ ref('int_revenue_records_converted') }}
    where amount is not null and amount_reporting is null
    union all
    select
        'ad spend' as object_name,
        currency,
        report_date as amount_date
    from {{ ref('fct_ad_spend_daily') }}
    where spend is not null and spend_reporting is null
    union all
    select
        'expenses' as object_name,
        currency,
        month_start_date as amount_date
    from expenses

),

in_window as (

    -- Amounts dated outside the history window are reported by assert_rows_inside_history_window.
    select
        unconverted.object_name,
        unconverted.currency,
        unconverted.amount_date
    from unconverted
    inner join days
        on unconverted.amount_date = days.calendar_date

),

currencies_needed as (

    select distinct currency from in_window

),

missing_days as (

    -- Days of history without a usable rate, numbered per currency: consecutive missing days
    -- share `day_number - rank`, so each span of missing days is one group.
    select
        currencies_needed.currency,
        days.calendar_date,
        row_number() over (
            partition by currencies_needed.currency order by days.calendar_date
        ) as missing_rank
    from currencies_needed
    cross join days
    left join fx_rates
        on
            currencies_needed.currency = fx_rates.currency
            and days.calendar_date = fx_rates.calendar_date
    where fx_rates.calendar_date is null

),

missing_spans as (

    select
        currency,
        calendar_date,
        cast({{ dbt.dateadd('day', '-1 * missing_rank', 'calendar_date') }} as date)
            as span_key
    from missing_days

),

spans as (

    select
        missing_spans.currency,
        missing_spans.calendar_date,
        min(missing_spans.calendar_date) over (
            partition by missing_spans.currency, missing_spans.span_key
        ) as missing_from_date,
        max(missing_spans.calendar_date) over (
            partition by missing_spans.currency, missing_spans.span_key
        ) as missing_to_date
    from missing_spans

),

final as (

    -- Column order is the order of the sample rows a refresh prints (revops/checks.py sorts
    -- by every column): currencies with no rate at all first, then by currency and span.
    select
        max(case when published_currencies.currency is null then 0 else 1 end) = 1
            as has_any_rate,
        in_window.currency,
        spans.missing_from_date,
        spans.missing_to_date,
        in_window.object_name,
        count(*) as unconverted_records,
        min(in_window.amount_date) as first_amount_date,
        max(in_window.amount_date) as last_amount_date
    from in_window
    left join spans
        on
            in_window.currency = spans.currency
            and in_window.amount_date = spans.calendar_date
    left join published_currencies
        on in_window.currency = published_currencies.currency
    group by
        in_window.object_name,
        in_window.currency,
        spans.missing_from_date,
        spans.missing_to_date

)

select * from final
