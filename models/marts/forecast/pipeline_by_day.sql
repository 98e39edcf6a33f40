-- One row per as-of date x segment x forecast category with open pipeline
-- (fct_pipeline_snapshots, every deal category): the open opportunities, their amount in the
-- reporting currency at the as-of day's rate and that amount weighted by the stage probability
-- as known then. An amount that could not be converted (no usable FX rate that day) or an
-- opportunity without an amount is left out of the sums and counted beside them.
with

snapshots as (

    select
        as_of_date,
        segment,
        forecast_category,
        amount,
        amount_reporting,
        probability
    from {{ ref('fct_pipeline_snapshots') }}

),

final as (

    select
        as_of_date,
        segment,
        forecast_category,
        cast(count(*) as bigint) as open_count,
        -- null (not 0) when no open amount in the group converted
        cast(sum(amount_reporting) as decimal(18, 2)) as open_amount_reporting,
        cast(round(sum(amount_reporting * probability), 2) as decimal(18, 2))
            as weighted_amount_reporting,
        cast(sum(case when amount is not null and amount_reporting is null then 1 else 0 end) as bigint)  -- noqa: LT05
            as amount_unconverted_count,
        cast(sum(case when amount is null then 1 else 0 end) as bigint) as amount_missing_count
    from snapshots
    group by as_of_date, segment, forecast_category

)

select * from final
