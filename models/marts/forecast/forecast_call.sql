-- One row per period (the current month and quarter: those holding the latest as-of date of
-- fct_pipeline_snapshots) x roll-up (rep, team = the rep's manager, segment, All) of
-- new-business deals: the forecast call by forecast category, reporting currency.
-- closed_won: deals won with a close date in the period up to the as-of date; commit /
-- best_case / pipeline: deals open at the end of the as-of date whose close date (as known
-- then) falls in the period, by their forecast category then (Salesforce's standard categories
-- Commit, Best Case, Pipeline; Omitted and other categories are in no column); commit_call =
-- closed_won + commit; best_case_call = commit_call + best_case; pipeline_call =
-- best_case_call + pipeline. Amounts without a reporting-currency conversion are left out and
-- counted (deals_unconverted). Deals owned by a queue or a user without a manager roll up
-- to the team key `unassigned`.
{%- set quarter_after = dbt.dateadd('month', 3, dbt.date_trunc('quarter', 'as_of_date')) %}
with

latest as (

    select max(as_of_date) as as_of_date
    from {{ ref('fct_pipeline_snapshots') }}

),

periods as (

    select
        'month' as period_grain,
        as_of_date,
        cast({{ dbt.date_trunc('month', 'as_of_date') }} as date) as period_start,
        cast({{ dbt.last_day('as_of_date', 'month') }} as date) as period_end
    from latest
    union all
    select
        'quarter' as period_grain,
        as_of_date,
        cast({{ dbt.date_trunc('quarter', 'as_of_date') }} as date) as period_start,
        -- the quarter's last day by month arithmetic (as int_forecast_periods), which every
        -- adapter's dateadd supports
        cast({{ dbt.dateadd('day', -1, quarter_after) }} as date) as period_end
    from latest

),

reps as (

    select
        rep_id,
        rep_name,
        manager_id,
        manager_name
    from {{ ref('dim_reps') }}

),

open_deals as (

    select
        snapshots.as_of_date,
        snapshots.owner_id,
        snapshots.segment,
        snapshots.forecast_category,
        snapshots.amount_reporting,
        snapshots.close_date
    from {{ ref('fct_pipeline_snapshots') }} as snapshots
    inner join latest on snapshots.as_of_date = latest.as_of_date
    where snapshots.deal_category = 'new_business'

),

won_deals as (

    select
        owner_id,
        segment,
        amount_reporting,
        close_date
    from {{ ref('fct_opportunities') }}
    where deal_category = 'new_business' and is_won

),

deal_rows as (

    select
        periods.period_grain,
        periods.period_start,
        won_deals.owner_id,
        won_deals.segment,
        'Closed Won' as call_category,
        won_deals.amount_reporting
    from periods
    inner join won_deals
        on
            periods.period_start <= won_deals.close_date
            and periods.as_of_date >= won_deals.close_date
    union all
    select
        periods.period_grain,
        periods.period_start,
        open_deals.owner_id,
        open_deals.segment,
        open_deals.forecast_category as call_category,
        open_deals.amount_reporting
    from periods
    inner join open_deals
        on
            periods.period_start <= open_deals.close_date
            and periods.period_end >= open_deals.close_date

),

with_team as (

    select
        deal_rows.period_grain,
        deal_rows.period_start,
        deal_rows.owner_id,
        coalesce(reps.rep_name, deal_rows.owner_id) as owner_name,
        coalesce(reps.manager_id, 'unassigned') as team_id,
        coalesce(reps.manager_name, 'unassigned') as team_name,
        deal_rows.segment,
        deal_rows.call_category,
        deal_rows.amount_reporting
    from deal_rows
    left join reps on deal_rows.owner_id = reps.rep_id

),

rolled as (

    select
        period_grain,
        period_start,
        'rep' as rollup_level,
        owner_id as rollup_key,
        owner_name as rollup_name,
        call_category,
        amount_reporting
    from with_team
    union all
    select
        period_grain,
        period_start,
        'team' as rollup_level,
        team_id as rollup_key,
        team_name as rollup_name,
        call_category,
        amount_reporting
    from with_team
    union all
    select
        period_grain,
        period_start,
        'segment' as rollup_level,
        segment as rollup_key,
        segment as rollup_name,
        call_category,
        amount_reporting
    from with_team
    union all
    select
        period_grain,
        period_start,
        'All' as rollup_level,
        'All' as rollup_key,
        'All' as rollup_name,
        call_category,
        amount_reporting
    from with_team

),

summed as (

    select
        period_grain,
        period_start,
        rollup_level,
        rollup_key,
        max(rollup_name) as rollup_name,
        coalesce(sum(case when call_category = 'Closed Won' then amount_reporting end), 0)
            as closed_won,
        coalesce(sum(case when call_category = 'Commit' then amount_reporting end), 0)
            as commit_amount,
        coalesce(sum(case when call_category = 'Best Case' then amount_reporting end), 0)
            as best_case_amount,
        coalesce(sum(case when call_category = 'Pipeline' then amount_reporting end), 0)
            as pipeline_amount,
        sum(case when amount_reporting is null then 1 else 0 end) as deals_unconverted,
        count(*) as deals
    from rolled
    group by period_grain, period_start, rollup_level, rollup_key

),

final as (

    select
        summed.period_grain,
        summed.rollup_level,
        summed.rollup_key,
        summed.rollup_name,
        cast(summed.closed_won as decimal(18, 2)) as closed_won,
        cast(summed.commit_amount as decimal(18, 2)) as commit_amount,
        cast(summed.best_case_amount as decimal(18, 2)) as best_case_amount,
        cast(summed.pipeline_amount as decimal(18, 2)) as pipeline_amount,
        cast(summed.closed_won + summed.commit_amount as decimal(18, 2)) as commit_call,
        cast(summed.closed_won + summed.commit_amount + summed.best_case_amount as decimal(18, 2))
            as best_case_call,
        cast(
            summed.closed_won + summed.commit_amount + summed.best_case_amount
            + summed.pipeline_amount as decimal(18, 2)
        ) as pipeline_call,
        cast(summed.deals as bigint) as deals,
        cast(summed.deals_unconverted as bigint) as deals_unconverted,
        periods.as_of_date,
        summed.period_start,
        periods.period_end
    from summed
    inner join periods
        on summed.period_grain = periods.period_grain and summed.period_start = periods.period_start

)

select * from final
