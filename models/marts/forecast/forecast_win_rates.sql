-- One row per as-of date x stage x age band x segment (and `All`) with history: the empirical
-- win rate the historical-conversion forecast applies, learned only from what was known at the
-- as-of date. Observations are new-business deals open at an earlier month end
-- (fct_pipeline_snapshots on the month-end as-of dates of util_pipeline_as_of_dates), in their
-- stage and age band of then, whose deal closed before the as-of date (fct_opportunities close
-- date); win_rate = won observations / observations. Age bands: macro forecast_age_band
-- (setting forecast_age_band_days).
-- Computed as running counts: each observation is counted once, on the day it is learned after
-- (the later of its month end and its close date), and each as-of date takes the running sum of
-- the days before it, instead of joining every as-of date with every observation (at `m`, 9.1 M
-- joined rows -> 0.64 M, the same rows out).
{%- set learned_after = 'greatest(observed_date, close_date)' %}
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

observation_days as (

    -- An observation is learned from on every as-of date after both its month end and its
    -- deal's close (a close date that is null: never). Counted once per key and day it is
    -- learned after, for the segment and for `All`.
    {%- for all_segments in [false, true] %}
    select
        {{ 'true' if all_segments else 'false' }} as is_all_segments,
        {{ "'All' as segment" if all_segments else 'segment' }},
        stage_name,
        age_band,
        {{ learned_after }} as learned_after_date,
        count(*) as observations,
        sum(case when is_won then 1 else 0 end) as won_observations
    from observations
    where close_date is not null
    group by {{ '' if all_segments else 'segment, ' }}stage_name, age_band, {{ learned_after }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

observation_keys as (

    select distinct
        is_all_segments,
        segment,
        stage_name,
        age_band
    from observation_days

),

dated_counts as (

    -- Per key, one row per as-of date (no count) and per day with observations (their
    -- counts), ordered by day with the as-of date first: the running sum at an as-of date
    -- then counts the observations learned strictly before it, as the range join
    -- `as_of_date > observed_date and as_of_date > close_date` would, without forming it.
    select
        observation_keys.is_all_segments,
        observation_keys.segment,
        observation_keys.stage_name,
        observation_keys.age_band,
        as_of_dates.as_of_date as day_date,
        0 as day_order,
        0 as observations,
        0 as won_observations
    from observation_keys
    cross join as_of_dates
    union all
    select
        is_all_segments,
        segment,
        stage_name,
        age_band,
        learned_after_date as day_date,
        1 as day_order,
        observations,
        won_observations
    from observation_days

),

running as (

    select
        day_order,
        segment,
        stage_name,
        age_band,
        day_date as as_of_date,
        sum(observations) over (
            partition by is_all_segments, segment, stage_name, age_band
            order by day_date, day_order
            rows between unbounded preceding and current row
        ) as observations,
        sum(won_observations) over (
            partition by is_all_segments, segment, stage_name, age_band
            order by day_date, day_order
            rows between unbounded preceding and current row
        ) as won_observations
    from dated_counts

),

by_segment as (

    -- as-of dates with something learned (the inner join's rows)
    select
        as_of_date,
        stage_name,
        age_band,
        segment,
        observations,
        won_observations
    from running
    where day_order = 0 and observations > 0

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
