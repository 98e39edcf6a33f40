-- One row per as-of date x period grain x period (current and next, int_forecast_periods) x
-- segment with new-business pipeline: the historical-conversion forecast of the bookings still
-- to come in the period. Each open new-business deal whose close date (as known at the end of
-- the as-of date, fct_pipeline_snapshots) falls in the period counts its amount in the
-- reporting currency x the win rate of its stage, age band and segment (forecast_win_rates,
-- learned from deals closed before the as-of date) when that rate rests on at least
-- forecast_min_segment_observations observations, else the rate of all segments
-- (deals_fallback counts these), rounded half up to the cent per deal. A deal with no rate at
-- all (no closed deal ever seen in its stage and age band) or without a converted amount is
-- left out and counted (deals_left_out).
{%- set min_obs = numeric_setting('forecast_min_segment_observations', whole=true) | int %}
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
        stage_name,
        amount_reporting,
        close_date,
        {{ forecast_age_band('age_days') }} as age_band
    from {{ ref('fct_pipeline_snapshots') }}
    where deal_category = 'new_business'

),

win_rates as (

    select
        as_of_date,
        segment,
        stage_name,
        age_band,
        observations,
        won_observations
    from {{ ref('forecast_win_rates') }}

),

rated as (

    select
        periods.as_of_date,
        periods.period_grain,
        periods.period_start,
        snapshots.segment,
        snapshots.amount_reporting,
        case
            when own_rate.observations >= {{ min_obs }} then own_rate.won_observations
            else all_rate.won_observations
        end as won_observations,
        case
            when own_rate.observations >= {{ min_obs }} then own_rate.observations
            else all_rate.observations
        end as observations,
        coalesce(own_rate.observations, 0) < {{ min_obs }} and all_rate.observations is not null
            as is_fallback
    from periods
    inner join snapshots
        on
            periods.as_of_date = snapshots.as_of_date
            and periods.period_start <= snapshots.close_date
            and periods.period_end >= snapshots.close_date
    left join win_rates as own_rate
        on
            snapshots.as_of_date = own_rate.as_of_date
            and snapshots.segment = own_rate.segment
            and snapshots.stage_name = own_rate.stage_name
            and snapshots.age_band = own_rate.age_band
    left join win_rates as all_rate
        on
            snapshots.as_of_date = all_rate.as_of_date
            and all_rate.segment = 'All'
            and snapshots.stage_name = all_rate.stage_name
            and snapshots.age_band = all_rate.age_band

),

valued as (

    -- amount x won / observations, exactly, rounded half up to the cent per deal (integer
    -- arithmetic: the same cents on every engine)
    select
        as_of_date,
        period_grain,
        period_start,
        segment,
        amount_reporting,
        observations,
        is_fallback,
        {{ divide_round_half_up(
            ['amount_reporting * 100', 'won_observations'], 'observations'
        ) }} / 100.0 as expected_amount
    from rated

),

final as (

    select
        period_grain,
        segment,
        -- null, never 0, when every open deal is left out: no estimate, not zero bookings
        cast(sum(expected_amount) as decimal(18, 2)) as forecast_remaining,
        cast(count(*) as bigint) as open_deals,
        cast(sum(
            case when amount_reporting is null or observations is null then 1 else 0 end
        ) as bigint) as deals_left_out,
        cast(sum(
            case when is_fallback and amount_reporting is not null then 1 else 0 end
        ) as bigint) as deals_fallback,
        as_of_date,
        period_start
    from valued
    group by as_of_date, period_grain, period_start, segment

)

select * from final
