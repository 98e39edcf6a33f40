-- One row per forecast (forecast_bookings: as-of date x method x period grain x period x
-- segment) of a period that has ended (its last day on or before the latest as-of date): the
-- forecast against the actual new-business bookings of the period (fct_opportunities: won
-- deals with a close date in the period, reporting currency; won deals without a converted
-- amount left out of the actual and counted in actual_unconverted). error = forecast_total -
-- actual_bookings; abs_error = |error|; abs_pct_error = abs_error / actual_bookings and bias =
-- error / actual_bookings, both null when the actual is 0 (is_actual_zero) or the forecast is
-- null.
with

forecasts as (

    select
        method,
        period_grain,
        segment,
        horizon_days,
        horizon_band,
        forecast_total,
        as_of_date,
        period_start,
        period_end
    from {{ ref('forecast_bookings') }}

),

latest as (

    select max(as_of_date) as latest_as_of_date
    from {{ ref('int_forecast_periods') }}

),

ended_periods as (

    select distinct
        forecasts.period_grain,
        forecasts.period_start,
        forecasts.period_end
    from forecasts
    cross join latest
    where forecasts.period_end <= latest.latest_as_of_date

),

won as (

    select
        segment,
        amount_reporting,
        close_date
    from {{ ref('fct_opportunities') }}
    where deal_category = 'new_business' and is_won

),

won_in_period as (

    select
        ended_periods.period_grain,
        ended_periods.period_start,
        won.segment,
        won.amount_reporting
    from ended_periods
    inner join won
        on
            ended_periods.period_start <= won.close_date
            and ended_periods.period_end >= won.close_date

),

actuals as (

    select
        period_grain,
        period_start,
        segment,
        sum(amount_reporting) as actual_amount,
        count(*) as won_deals,
        sum(case when amount_reporting is null then 1 else 0 end) as actual_unconverted
    from won_in_period
    group by period_grain, period_start, segment
    union all
    select
        period_grain,
        period_start,
        'All' as segment,
        sum(amount_reporting) as actual_amount,
        count(*) as won_deals,
        sum(case when amount_reporting is null then 1 else 0 end) as actual_unconverted
    from won_in_period
    group by period_grain, period_start

),

joined as (

    select
        forecasts.method,
        forecasts.period_grain,
        forecasts.segment,
        forecasts.horizon_days,
        forecasts.horizon_band,
        forecasts.forecast_total,
        coalesce(actuals.actual_amount, 0) as actual_bookings,
        coalesce(actuals.actual_unconverted, 0) as actual_unconverted,
        forecasts.as_of_date,
        forecasts.period_start,
        forecasts.period_end
    from forecasts
    inner join ended_periods
        on
            forecasts.period_grain = ended_periods.period_grain
            and forecasts.period_start = ended_periods.period_start
    left join actuals
        on
            forecasts.period_grain = actuals.period_grain
            and forecasts.period_start = actuals.period_start
            and forecasts.segment = actuals.segment

),

final as (

    select
        method,
        period_grain,
        segment,
        horizon_days,
        horizon_band,
        forecast_total,
        cast(actual_bookings as decimal(18, 2)) as actual_bookings,
        cast(forecast_total - actual_bookings as decimal(18, 2)) as error,
        cast(abs(forecast_total - actual_bookings) as decimal(18, 2)) as abs_error,
        case
            when actual_bookings <> 0
                then cast(abs(forecast_total - actual_bookings) as double) / actual_bookings
        end as abs_pct_error,
        case
            when actual_bookings <> 0
                then cast(forecast_total - actual_bookings as double) / actual_bookings
        end as bias,
        cast(actual_unconverted as bigint) as actual_unconverted,
        actual_bookings = 0 as is_actual_zero,
        as_of_date,
        period_start,
        period_end
    from joined

)

select * from final
