-- One row per forecast horizon (months ahead): how far the MRR forecasts made that many months
-- ahead were from the actual MRR over every backtested as-of month (mrr_forecast_accuracy):
-- mean absolute percentage error, mean error (bias) and the counts behind them.
with

accuracy as (

    select
        horizon_months,
        error,
        abs_error,
        abs_pct_error,
        forecast_mrr,
        actual_mrr
    from {{ ref('mrr_forecast_accuracy') }}

),

final as (

    select
        horizon_months,
        count(*) as forecasts,
        count(abs_pct_error) as forecasts_with_pct_error,
        -- a forecast without a forecast or an actual value, or with an actual of 0
        count(*) - count(abs_pct_error) as forecasts_without_pct_error,
        -- averaged as exact decimals, then a double: a sum of doubles depends on the order
        -- rows arrive in (the same data must give the same bits on every run), and an average
        -- of decimals keeps a different scale per engine
        cast(avg(cast(abs_pct_error as decimal(38, 18))) as double) as mape,
        cast(avg(cast(error as decimal(38, 18))) as double) as mean_error,
        cast(avg(cast(abs_error as decimal(38, 18))) as double) as mean_abs_error,
        cast(sum(error) as double)
        / cast(nullif(sum(case when error is not null then actual_mrr end), 0) as double)
            as bias_pct
    from accuracy
    group by horizon_months

)

select * from final
