-- One row per method x period grain x horizon band x segment (and `All`): the backtest's track
-- record over every forecast of an ended period (forecast_accuracy) in the horizon band.
-- mape = the mean of abs_pct_error and mean_bias = the mean of bias, over the forecasts with a
-- forecast and a non-zero actual (n_forecasts); forecasts of a period whose actual is 0
-- (n_actual_zero) and forecasts the method could not make (n_forecast_missing) are counted, not
-- averaged. Forecasts without a horizon band (int_forecast_periods) are not
-- in the table. is_best_method: the lowest mape of the three methods for the same grain, band
-- and segment (every tied method is best; false for all when no method has a mape).
with

accuracy as (

    select
        method,
        period_grain,
        segment,
        horizon_band,
        forecast_total,
        abs_pct_error,
        bias,
        is_actual_zero
    from {{ ref('forecast_accuracy') }}
    where horizon_band is not null

),

measured as (

    select
        method,
        period_grain,
        segment,
        horizon_band,
        -- averaged as exact decimals: a sum of doubles depends on the order rows arrive in,
        -- and the same data must give the same bits on every run
        cast(avg(cast(abs_pct_error as decimal(38, 18))) as double) as mape,
        cast(avg(cast(bias as decimal(38, 18))) as double) as mean_bias,
        count(abs_pct_error) as n_forecasts,
        sum(case when is_actual_zero then 1 else 0 end) as n_actual_zero,
        sum(case when forecast_total is null then 1 else 0 end) as n_forecast_missing
    from accuracy
    group by method, period_grain, segment, horizon_band

),

ranked as (

    select
        method,
        period_grain,
        segment,
        horizon_band,
        mape,
        mean_bias,
        n_forecasts,
        n_actual_zero,
        n_forecast_missing,
        min(mape) over (partition by period_grain, segment, horizon_band) as best_mape
    from measured

),

final as (

    select
        method,
        period_grain,
        segment,
        cast(horizon_band as integer) as horizon_band,
        mape,
        mean_bias,
        cast(n_forecasts as bigint) as n_forecasts,
        cast(n_actual_zero as bigint) as n_actual_zero,
        cast(n_forecast_missing as bigint) as n_forecast_missing,
        coalesce(mape = best_mape, false) as is_best_method
    from ranked

)

select * from final
