-- One row per as-of date x method x period grain x period (the current and the next month and
-- quarter) x segment (and `All`): the forecast of new-business bookings for the period made
-- with only what was known at the end of the as-of date. closed_won_to_date: new-business deals
-- won with a close date in the period up to the as-of date (reporting currency; a won deal
-- without a converted amount is left out and counted in closed_won_unconverted);
-- forecast_remaining: what the method expects still to be won (forecast_weighted_pipeline,
-- forecast_historical_conversion, forecast_run_rate); forecast_total = the two summed, null when
-- the method has no forecast (run-rate without a reference period). Deals left out are counted. A
-- segment without open deals in the period has a remaining forecast of 0 by the pipeline
-- methods. `All` sums the segments (null when any segment's forecast is null).
with

periods as (

    select
        period_grain,
        horizon_days,
        horizon_band,
        is_current_period,
        as_of_date,
        period_start,
        period_end
    from {{ ref('int_forecast_periods') }}

),

deals as (

    select
        segment,
        amount_reporting,
        close_date
    from {{ ref('fct_opportunities') }}
    where deal_category = 'new_business' and is_won

),

segments as (

    select distinct segment
    from {{ ref('fct_opportunities') }}
    where deal_category = 'new_business'

),

methods as (

    select
        'weighted_pipeline' as method,  -- noqa: RF04
        period_grain,
        segment,
        forecast_remaining,
        open_deals,
        deals_left_out,
        cast(null as bigint) as deals_fallback,
        cast(null as bigint) as reference_periods,
        as_of_date,
        period_start
    from {{ ref('forecast_weighted_pipeline') }}
    union all
    select
        'historical_conversion' as method,  -- noqa: RF04
        period_grain,
        segment,
        forecast_remaining,
        open_deals,
        deals_left_out,
        deals_fallback,
        cast(null as bigint) as reference_periods,
        as_of_date,
        period_start
    from {{ ref('forecast_historical_conversion') }}
    union all
    select
        'run_rate' as method,  -- noqa: RF04
        period_grain,
        segment,
        forecast_remaining,
        cast(null as bigint) as open_deals,
        deals_left_out,
        cast(null as bigint) as deals_fallback,
        reference_periods,
        as_of_date,
        period_start
    from {{ ref('forecast_run_rate') }}

),

method_names as (

    select 'weighted_pipeline' as method  -- noqa: RF04
    union all
    select 'historical_conversion' as method  -- noqa: RF04
    union all
    select 'run_rate' as method  -- noqa: RF04

),

closed_won as (

    select
        periods.as_of_date,
        periods.period_grain,
        periods.period_start,
        deals.segment,
        sum(deals.amount_reporting) as won_amount,
        count(*) as won_deals,
        sum(case when deals.amount_reporting is null then 1 else 0 end) as won_unconverted
    from periods
    inner join deals
        on
            periods.period_start <= deals.close_date
            and periods.period_end >= deals.close_date
            and periods.as_of_date >= deals.close_date
    group by periods.as_of_date, periods.period_grain, periods.period_start, deals.segment

),

by_segment as (

    select
        method_names.method,
        periods.period_grain,
        segments.segment,
        periods.horizon_days,
        periods.horizon_band,
        coalesce(closed_won.won_amount, 0) as closed_won_to_date,
        coalesce(closed_won.won_unconverted, 0) as closed_won_unconverted,
        case
            -- no open deal in the period: nothing left to win by the pipeline methods
            when method_names.method <> 'run_rate' and methods.open_deals is null then 0
            else methods.forecast_remaining
        end as forecast_remaining,
        coalesce(methods.open_deals, case when method_names.method <> 'run_rate' then 0 end)
            as open_deals,
        coalesce(methods.deals_left_out, 0) as deals_left_out,
        coalesce(
            methods.deals_fallback,
            case when method_names.method = 'historical_conversion' then 0 end
        ) as deals_fallback,
        methods.reference_periods,
        periods.is_current_period,
        periods.as_of_date,
        periods.period_start,
        periods.period_end
    from periods
    cross join segments
    cross join method_names
    left join closed_won
        on
            periods.as_of_date = closed_won.as_of_date
            and periods.period_grain = closed_won.period_grain
            and periods.period_start = closed_won.period_start
            and segments.segment = closed_won.segment
    left join methods
        on
            method_names.method = methods.method
            and periods.as_of_date = methods.as_of_date
            and periods.period_grain = methods.period_grain
            and periods.period_start = methods.period_start
            and segments.segment = methods.segment

),

with_all as (

    select
        method,
        period_grain,
        segment,
        horizon_days,
        horizon_band,
        closed_won_to_date,
        closed_won_unconverted,
        forecast_remaining,
        open_deals,
        deals_left_out,
        deals_fallback,
        reference_periods,
        is_current_period,
        as_of_date,
        period_start,
        period_end
    from by_segment
    union all
    select
        method,
        period_grain,
        'All' as segment,
        horizon_days,
        horizon_band,
        sum(closed_won_to_date) as closed_won_to_date,
        sum(closed_won_unconverted) as closed_won_unconverted,
        case
            when count(forecast_remaining) = count(*) then sum(forecast_remaining)
        end as forecast_remaining,
        sum(open_deals) as open_deals,
        sum(deals_left_out) as deals_left_out,
        sum(deals_fallback) as deals_fallback,
        max(reference_periods) as reference_periods,
        is_current_period,
        as_of_date,
        period_start,
        period_end
    from by_segment
    group by
        method, period_grain, horizon_days, horizon_band, is_current_period,
        as_of_date, period_start, period_end

),

final as (

    select
        method,
        period_grain,
        segment,
        cast(horizon_days as bigint) as horizon_days,
        cast(horizon_band as integer) as horizon_band,
        cast(closed_won_to_date as decimal(18, 2)) as closed_won_to_date,
        cast(forecast_remaining as decimal(18, 2)) as forecast_remaining,
        cast(closed_won_to_date + forecast_remaining as decimal(18, 2)) as forecast_total,
        cast(closed_won_unconverted as bigint) as closed_won_unconverted,
        cast(open_deals as bigint) as open_deals,
        cast(deals_left_out as bigint) as deals_left_out,
        cast(deals_fallback as bigint) as deals_fallback,
        cast(reference_periods as bigint) as reference_periods,
        is_current_period,
        as_of_date,
        period_start,
        period_end
    from with_all

)

select * from final
