-- One row per as-of date x stage x age band x segment (and `All`) with history: the empirical
-- win rate the historical-conversion forecast applies, learned only from what was known at the
-- as-of date. Observations are new-business deals open at an earlier month end
-- (fct_pipeline_snapshots on the month-end as-of dates of util_pipeline_as_of_dates), in their
-- stage and age band of then, whose deal closed before the as-of date (fct_opportunities close
-- date); win_rate = won observations / observations. Age bands: macro forecast_age_band
-- (setting forecast_age_band_days).
with

as_of_dates as (

    select
        as_of_date,
        is_month_end
    from {{ ref('util_pipeline_as_of_dates') }}

),

snapshots as (

    select
        as_of_date,
        opportunity_id,
        segment,
        stage_name,
        age_days
    from {{ ref('fct_pipeline_snapshots') }}
    where deal_category = 'new_business'

),

outcomes as (

    select
        opportunity_id,
        is_won,
        close_date
    from {{ ref('fct_opportunities') }}
    where is_closed

),

observations as (

    -- each deal once per month end it was open at, in its stage and age band of then
    select
        snapshots.as_of_date as observed_date,
        snapshots.segment,
        snapshots.stage_name,
        {{ forecast_age_band('snapshots.age_days') }} as age_band,
        outcomes.is_won,
        outcomes.close_date
    from snapshots
    inner join as_of_dates
        on snapshots.as_of_date = as_of_dates.as_of_date and as_of_dates.is_month_end
    inner join outcomes
        on snapshots.opportunity_id = outcomes.opportunity_id

),

learned as (

    select
        as_of_dates.as_of_date,
        observations.segment,
        observations.stage_name,
        observations.age_band,
        observations.is_won
    from as_of_dates
    inner join observations
        on
            as_of_dates.as_of_date > observations.observed_date
            and as_of_dates.as_of_date > observations.close_date

),

by_segment as (

    select
        as_of_date,
        stage_name,
        age_band,
        segment,
        count(*) as observations,
        sum(case when is_won then 1 else 0 end) as won_observations
    from learned
    group by as_of_date, stage_name, age_band, segment
    union all
    select
        as_of_date,
        stage_name,
        age_band,
        'All' as segment,
        count(*) as observations,
        sum(case when is_won then 1 else 0 end) as won_observations
    from learned
    group by as_of_date, stage_name, age_band

),

final as (

    select
        segment,
        stage_name,
        age_band,
        cast(observations as bigint) as observations,
        cast(won_observations as bigint) as won_observations,
        cast(won_observations as double) / observations as win_rate,
        as_of_date
    from by_segment

)

select * from final
