-- One row per as-of date x period grain x period (current and next, int_forecast_periods) x
-- segment with new-business pipeline: the weighted-pipeline forecast of the bookings still to
-- come in the period, from the pipeline as known at the end of the as-of date
-- (fct_pipeline_snapshots): every open new-business deal whose close date (as known then)
-- falls in the period, amount in the reporting currency x its stage probability then. A deal
-- without a converted amount or a probability is left out of the sum and counted
-- (deals_left_out; the sum of the others, 0 when there are none).
with

periods as (

    select
        as_of_date,
        period_grain,
        period_start,
        period_end
    from {{ ref('int_forecast_periods') }}

),

snapshots as (

    select
        as_of_date,
        segment,
        probability,
        amount_reporting,
        close_date
    from {{ ref('fct_pipeline_snapshots') }}
    where deal_category = 'new_business'

),

in_period as (

    select
        periods.as_of_date,
        periods.period_grain,
        periods.period_start,
        snapshots.segment,
        snapshots.amount_reporting * snapshots.probability as weighted_amount,
        snapshots.amount_reporting is null or snapshots.probability is null as is_left_out
    from periods
    inner join snapshots
        on
            periods.as_of_date = snapshots.as_of_date
            and periods.period_start <= snapshots.close_date
            and periods.period_end >= snapshots.close_date

),

final as (

    select
        period_grain,
        segment,
        -- null, never 0, when every open deal is left out: no estimate, not zero bookings
        cast(sum(weighted_amount) as decimal(18, 2)) as forecast_remaining,
        cast(count(*) as bigint) as open_deals,
        cast(sum(case when is_left_out then 1 else 0 end) as bigint) as deals_left_out,
        as_of_date,
        period_start
    from in_period
    group by as_of_date, period_grain, period_start, segment

)

select * from final
