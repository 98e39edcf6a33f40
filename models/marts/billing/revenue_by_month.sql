-- One row per month of billing history x segment, plus an `All` row per month: invoiced,
-- collected and refunded revenue in the reporting currency (each record converted at its own
-- day's rate and rounded to the cent), and month-over-month and year-over-year growth of MRR
-- (from mrr_by_month), of invoiced revenue and of recognised subscription revenue (invoice lines
-- spread over their service days). Every month is present, with zeros when empty.
with

months as (

    select month_start_date from {{ ref('int_billing_months') }}

),

segments as (

    select bands.segment from {{ org_mapping('segment_bands') }} as bands
    union all
    select 'Unknown' as segment
    union all
    select 'All' as segment

),

records as (

    select
        record_type,
        segment,
        amount_reporting,
        record_date
    from {{ ref('int_revenue_records_converted') }}

),

recognised as (

    select
        segment,
        recognised_revenue,
        month
    from {{ ref('int_invoice_lines_recognised') }}

),

recognised_segmented as (

    select * from recognised
    union all
    select
        'All' as segment,
        recognised_revenue,
        month
    from recognised

),

recognised_aggregated as (

    select
        segment,
        month,
        sum(recognised_revenue) as recognised_revenue
    from recognised_segmented
    group by segment, month

),

mrr_months as (

    select
        segment,
        mrr,
        month
    from {{ ref('mrr_by_month') }}

),

segmented as (

    select
        segment,
        record_type,
        amount_reporting,
        {{ dbt.date_trunc('month', 'record_date') }} as record_month
    from records
    union all
    select
        'All' as segment,
        record_type,
        amount_reporting,
        {{ dbt.date_trunc('month', 'record_date') }} as record_month
    from records

),

aggregated as (

    select
        segment,
        cast(record_month as date) as month,  -- noqa: RF04
        sum(case when record_type = 'invoiced' then amount_reporting else 0 end)
            as invoiced_revenue,
        sum(case when record_type = 'collected' then amount_reporting else 0 end)
            as gross_collected_revenue,
        sum(case when record_type = 'refunded' then amount_reporting else 0 end)
            as refunded_revenue,
        sum(case when amount_reporting is null then 1 else 0 end) as unconverted_records
    from segmented
    group by segment, cast(record_month as date)

),

spine as (

    select
        months.month_start_date as month,  -- noqa: RF04
        segments.segment
    from months
    cross join segments

),

filled as (

    select
        spine.segment,
        cast(coalesce(aggregated.invoiced_revenue, 0) as decimal(18, 2)) as invoiced_revenue,
        cast(coalesce(aggregated.gross_collected_revenue, 0) as decimal(18, 2))
            as gross_collected_revenue,
        cast(coalesce(aggregated.refunded_revenue, 0) as decimal(18, 2)) as refunded_revenue,
        cast(coalesce(aggregated.unconverted_records, 0) as bigint) as unconverted_records,
        cast(coalesce(recognised_aggregated.recognised_revenue, 0) as decimal(18, 2))
            as recognised_revenue,
        cast(coalesce(mrr_months.mrr, 0) as decimal(18, 2)) as mrr,
        spine.month
    from spine
    left join aggregated
        on
            spine.month = aggregated.month
            and spine.segment = aggregated.segment
    left join recognised_aggregated
        on
            spine.month = recognised_aggregated.month
            and spine.segment = recognised_aggregated.segment
    left join mrr_months
        on
            spine.month = mrr_months.month
            and spine.segment = mrr_months.segment

),

with_previous as (

    select
        *,
        lag(mrr, 1) over (partition by segment order by month) as previous_month_mrr,
        lag(mrr, 12) over (partition by segment order by month) as previous_year_mrr,
        lag(invoiced_revenue, 1) over (partition by segment order by month)
            as previous_month_invoiced_revenue,
        lag(invoiced_revenue, 12) over (partition by segment order by month)
            as previous_year_invoiced_revenue,
        lag(recognised_revenue, 1) over (partition by segment order by month)
            as previous_month_recognised_revenue,
        lag(recognised_revenue, 12) over (partition by segment order by month)
            as previous_year_recognised_revenue
    from filled

),

final as (

    select
        segment,
        '{{ setting("reporting_currency") }}' as reporting_currency,
        invoiced_revenue,
        cast(gross_collected_revenue - refunded_revenue as decimal(18, 2))
            as collected_revenue,
        gross_collected_revenue,
        refunded_revenue,
        unconverted_records,
        mrr,
        cast(coalesce(previous_month_mrr, 0) as decimal(18, 2)) as previous_month_mrr,
        cast(coalesce(previous_year_mrr, 0) as decimal(18, 2)) as previous_year_mrr,
        cast(
            case
                when previous_month_mrr <> 0
                    then cast(mrr - previous_month_mrr as double) / previous_month_mrr
            end as double
        ) as mrr_growth_mom,
        cast(
            case
                when previous_year_mrr <> 0
                    then cast(mrr - previous_year_mrr as double) / previous_year_mrr
            end as double
        ) as mrr_growth_yoy,
        cast(coalesce(previous_month_invoiced_revenue, 0) as decimal(18, 2))
            as previous_month_invoiced_revenue,
        cast(coalesce(previous_year_invoiced_revenue, 0) as decimal(18, 2))
            as previous_year_invoiced_revenue,
        cast(
            case
                when previous_month_invoiced_revenue <> 0
                    then
                        cast(invoiced_revenue - previous_month_invoiced_revenue as double)
                        / previous_month_invoiced_revenue
            end as double
        ) as invoiced_revenue_growth_mom,
        cast(
            case
                when previous_year_invoiced_revenue <> 0
                    then
                        cast(invoiced_revenue - previous_year_invoiced_revenue as double)
                        / previous_year_invoiced_revenue
            end as double
        ) as invoiced_revenue_growth_yoy,
        recognised_revenue,
        cast(coalesce(previous_month_recognised_revenue, 0) as decimal(18, 2))
            as previous_month_recognised_revenue,
        cast(coalesce(previous_year_recognised_revenue, 0) as decimal(18, 2))
            as previous_year_recognised_revenue,
        cast(
            case
                when previous_month_recognised_revenue <> 0
                    then
                        cast(recognised_revenue - previous_month_recognised_revenue as double)
                        / previous_month_recognised_revenue
            end as double
        ) as recognised_revenue_growth_mom,
        cast(
            case
                when previous_year_recognised_revenue <> 0
                    then
                        cast(recognised_revenue - previous_year_recognised_revenue as double)
                        / previous_year_recognised_revenue
            end as double
        ) as recognised_revenue_growth_yoy,
        month
    from with_previous

)

select * from final
