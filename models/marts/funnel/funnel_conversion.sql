-- One row per lead-created month x channel x segment (every month of the spine, every
-- combination seen): how many of the month's leads reached each stage by now, and each
-- conversion as numerator and denominator so BI tools can re-aggregate it.
with

funnel as (

    select
        lead_id,
        channel,
        segment,
        {{ dbt.date_trunc("month", "created_at") }} as cohort_month,
        mql_at,
        sql_at,
        opportunity_created_at,
        is_won
    from {{ ref('fct_lead_funnel') }}

),

months as (

    select month_start_date from {{ ref('util_months') }}

),

combinations as (

    select distinct
        channel,
        segment
    from funnel

),

spine as (

    select
        cast(months.month_start_date as date) as cohort_month,
        combinations.channel,
        combinations.segment
    from months
    cross join combinations

),

cohorts as (

    select
        cast(cohort_month as date) as cohort_month,
        channel,
        segment,
        count(*) as leads,
        count(mql_at) as reached_mql,
        count(sql_at) as reached_sql,
        count(opportunity_created_at) as reached_opportunity,
        count(case when is_won then 1 end) as reached_won
    from funnel
    group by
        cast(cohort_month as date),
        channel,
        segment

),

last_cohort as (

    select max(cohort_month) as cohort_month from cohorts

),

final as (

    select
        spine.cohort_month,
        spine.channel,
        spine.segment,
        coalesce(cohorts.leads, 0) as leads,
        coalesce(cohorts.reached_mql, 0) as reached_mql,
        coalesce(cohorts.reached_sql, 0) as reached_sql,
        coalesce(cohorts.reached_opportunity, 0) as reached_opportunity,
        coalesce(cohorts.reached_won, 0) as reached_won,
        -- conversion from the previous stage = numerator / denominator (null when 0 / 0)
        coalesce(cohorts.reached_mql, 0) / nullif(coalesce(cohorts.leads, 0), 0)
            as lead_to_mql_rate,
        coalesce(cohorts.reached_sql, 0) / nullif(coalesce(cohorts.reached_mql, 0), 0)
            as mql_to_sql_rate,
        coalesce(cohorts.reached_opportunity, 0) / nullif(coalesce(cohorts.reached_sql, 0), 0)
            as sql_to_opportunity_rate,
        coalesce(cohorts.reached_won, 0) / nullif(coalesce(cohorts.reached_opportunity, 0), 0)
            as opportunity_to_won_rate
    from spine
    inner join last_cohort
        on spine.cohort_month <= last_cohort.cohort_month
    left join cohorts
        on
            spine.cohort_month = cohorts.cohort_month
            and spine.channel = cohorts.channel
            and spine.segment = cohorts.segment

)

select * from final
