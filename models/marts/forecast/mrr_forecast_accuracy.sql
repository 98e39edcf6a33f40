-- One row per MRR forecast (mrr_forecast: as-of month x forecast month) whose forecast month
-- is a complete month of billing history: the forecast against the MRR the month actually
-- had (mrr_by_month, All), its error, absolute error and absolute percentage error.
with

forecasts as (

    select
        as_of_month,
        as_of_date,
        forecast_month,
        horizon_months,
        forecast_mrr
    from {{ ref('mrr_forecast') }}

),

billing_months as (

    select
        month_start_date,
        reference_date
    from {{ ref('int_billing_months') }}

),

actuals as (

    select
        month,
        mrr,
        mrr_unconverted_customers
    from {{ ref('mrr_by_month') }}
    where segment = 'All'

),

complete_actuals as (

    select
        actuals.month,
        actuals.mrr,
        actuals.mrr_unconverted_customers
    from actuals
    inner join billing_months
        on actuals.month = billing_months.month_start_date
    where
        billing_months.reference_date
        = cast({{ dbt.last_day("billing_months.month_start_date", "month") }} as date)

),

final as (

    select
        forecasts.horizon_months,
        cast(complete_actuals.mrr_unconverted_customers as bigint)
            as actual_mrr_unconverted_customers,
        forecasts.forecast_mrr,
        complete_actuals.mrr as actual_mrr,
        cast(forecasts.forecast_mrr - complete_actuals.mrr as decimal(18, 2)) as error,
        cast(abs(forecasts.forecast_mrr - complete_actuals.mrr) as decimal(18, 2)) as abs_error,
        -- null when the actual is 0 (no percentage of nothing); counted by the by-horizon view
        cast(abs(forecasts.forecast_mrr - complete_actuals.mrr) as double)
        / cast(nullif(complete_actuals.mrr, 0) as double) as abs_pct_error,
        complete_actuals.mrr = 0 as is_actual_zero,
        forecasts.as_of_date,
        forecasts.as_of_month,
        forecasts.forecast_month
    from forecasts
    inner join complete_actuals
        on forecasts.forecast_month = complete_actuals.month

)

select * from final
