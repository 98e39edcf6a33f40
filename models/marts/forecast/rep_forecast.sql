-- One row per rep (dim_reps.is_rep) for the current quarter (the quarter of the CRM's latest
-- opportunity export day): the quarter's quota, what the rep has closed won so far, the open
-- pipeline expected to close in the quarter by forecast category, the quota left and the
-- coverage (open pipeline / remaining quota) against the setting pipeline_coverage_threshold,
-- and the rep's win rate over the four quarters before against the team's.
-- Quota, closed won and pipeline are of the deal categories the setting quota_deal_categories
-- names (as rep_performance's attainment); win rates are of new-business deals.
{%- set quota_categories = list_setting('quota_deal_categories') %}
with

reps as (

    select
        rep_id,
        rep_name,
        manager_id,
        team
    from {{ ref('dim_reps') }}
    where is_rep

),

opportunities as (

    select
        owner_id,
        deal_category,
        forecast_category,
        amount,
        amount_reporting,
        probability,
        is_closed,
        is_won,
        close_date,
        deal_category in ({{ quoted_list(quota_categories) }}) as is_quota_category
    from {{ ref('fct_opportunities') }}

),

quotas as (

    select
        owner_id,
        currency,
        quota_amount,
        period_start_date,
        period_end_date
    from {{ ref('stg_reference__quotas') }}

),

crm_as_of as (

    select max(_delivery_date) as as_of_date
    from {{ ref('int_crm_opportunities_unioned') }}

),

current_quarter as (

    select
        as_of_date,
        cast({{ dbt.date_trunc("quarter", "as_of_date") }} as date) as quarter_start_date
    from crm_as_of

),

quarter as (

    select
        as_of_date,
        quarter_start_date,
        cast({{ dbt.dateadd("day", -1, dbt.dateadd("month", 3, "quarter_start_date")) }} as date)
            as quarter_end_date,
        cast({{ dbt.dateadd("month", -12, "quarter_start_date") }} as date)
            as win_rate_start_date
    from current_quarter

),

quarter_months as (

    select quarter_start_date as month_start_date from quarter
    union all
    select cast({{ dbt.dateadd("month", 1, "quarter_start_date") }} as date) as month_start_date
    from quarter
    union all
    select cast({{ dbt.dateadd("month", 2, "quarter_start_date") }} as date) as month_start_date
    from quarter

),

-- a quota period's amount is spread evenly over its calendar months (as rep_performance)
quota_months as (

    select
        quotas.owner_id,
        quotas.currency,
        round(
            quotas.quota_amount
            / (
                (
                    extract(year from quotas.period_end_date)
                    - extract(year from quotas.period_start_date)
                )
                * 12
                + extract(month from quotas.period_end_date)
                - extract(month from quotas.period_start_date)
                + 1
            ),
            2
        ) as month_quota_amount,
        quarter_months.month_start_date
    from quotas
    inner join quarter_months
        on
            quotas.period_start_date <= quarter_months.month_start_date
            and quotas.period_end_date >= quarter_months.month_start_date

),

quarter_quotas as (

    select
        owner_id,
        min(currency) as quota_currency,
        count(distinct currency) as quota_currencies,
        count(distinct month_start_date) as quota_months,
        sum(month_quota_amount) as quota_amount
    from quota_months
    group by owner_id

),

closed_won as (

    select
        opportunities.owner_id,
        count(*) as closed_won_count,
        sum(opportunities.amount_reporting) as closed_won_reporting,
        sum(case when opportunities.amount_reporting is null then 1 else 0 end)
            as closed_won_left_out
    from opportunities
    cross join quarter
    where
        opportunities.is_quota_category
        and opportunities.is_won
        and opportunities.close_date >= quarter.quarter_start_date
        and opportunities.close_date <= quarter.as_of_date
    group by opportunities.owner_id

),

open_pipeline as (

    select
        opportunities.owner_id,
        sum(
            case when opportunities.close_date >= quarter.quarter_start_date then 1 else 0 end
        ) as open_count,
        sum(
            case
                when opportunities.close_date >= quarter.quarter_start_date
                    then opportunities.amount_reporting
            end
        ) as open_pipeline_reporting,
        sum(
            case
                when opportunities.close_date >= quarter.quarter_start_date
                    then opportunities.amount_reporting * opportunities.probability
            end
        ) * 0.01 as weighted_pipeline_reporting,
        sum(
            case
                when
                    opportunities.close_date >= quarter.quarter_start_date
                    and opportunities.forecast_category = 'Commit'
                    then opportunities.amount_reporting
            end
        ) as commit_reporting,
        sum(
            case
                when
                    opportunities.close_date >= quarter.quarter_start_date
                    and opportunities.forecast_category = 'Best Case'
                    then opportunities.amount_reporting
            end
        ) as best_case_reporting,
        sum(
            case
                when
                    opportunities.close_date >= quarter.quarter_start_date
                    and opportunities.forecast_category = 'Pipeline'
                    then opportunities.amount_reporting
            end
        ) as pipeline_category_reporting,
        sum(
            case
                when
                    opportunities.close_date >= quarter.quarter_start_date
                    and opportunities.amount_reporting is null
                    then 1
                else 0
            end
        ) as open_left_out,
        -- open deals whose close date is before the quarter: not this quarter's pipeline
        sum(
            case when opportunities.close_date < quarter.quarter_start_date then 1 else 0 end
        ) as overdue_open_count
    from opportunities
    cross join quarter
    where
        opportunities.is_quota_category
        and not opportunities.is_closed
        and opportunities.close_date <= quarter.quarter_end_date
    group by opportunities.owner_id

),

rep_closes as (

    select
        opportunities.owner_id,
        sum(case when opportunities.is_won then 1 else 0 end) as won,
        count(*) as closed
    from opportunities
    cross join quarter
    where
        opportunities.deal_category = 'new_business'
        and opportunities.is_closed
        and opportunities.close_date >= quarter.win_rate_start_date
        and opportunities.close_date < quarter.quarter_start_date
    group by opportunities.owner_id

),

team_closes as (

    select
        reps.team,
        sum(rep_closes.won) as won,
        sum(rep_closes.closed) as closed
    from rep_closes
    inner join reps
        on rep_closes.owner_id = reps.rep_id
    where reps.team is not null
    group by reps.team

),

measured as (

    select
        reps.rep_id,
        reps.rep_name,
        reps.manager_id,
        reps.team,
        quarter_quotas.quota_currency,
        quarter_quotas.quota_amount,
        cast(coalesce(quarter_quotas.quota_months, 0) as bigint) as quota_months,
        -- the quota, when there is one in the reporting currency (no FX on targets)
        case
            when
                quarter_quotas.quota_currencies = 1
                and quarter_quotas.quota_currency = '{{ setting("reporting_currency") }}'
                then quarter_quotas.quota_amount
        end as comparable_quota_amount,
        cast(coalesce(closed_won.closed_won_count, 0) as bigint) as closed_won_count,
        coalesce(closed_won.closed_won_reporting, 0) as closed_won_reporting,
        cast(coalesce(closed_won.closed_won_left_out, 0) as bigint) as closed_won_left_out,
        cast(coalesce(open_pipeline.open_count, 0) as bigint) as open_count,
        coalesce(open_pipeline.open_pipeline_reporting, 0) as open_pipeline_reporting,
        coalesce(open_pipeline.weighted_pipeline_reporting, 0) as weighted_pipeline_reporting,
        coalesce(open_pipeline.commit_reporting, 0) as commit_reporting,
        coalesce(open_pipeline.best_case_reporting, 0) as best_case_reporting,
        coalesce(open_pipeline.pipeline_category_reporting, 0) as pipeline_category_reporting,
        cast(coalesce(open_pipeline.open_left_out, 0) as bigint) as open_left_out,
        cast(coalesce(open_pipeline.overdue_open_count, 0) as bigint) as overdue_open_count,
        cast(coalesce(rep_closes.won, 0) as bigint) as win_rate_won,
        cast(coalesce(rep_closes.closed, 0) as bigint) as win_rate_closed,
        team_closes.won as team_win_rate_won,
        team_closes.closed as team_win_rate_closed,
        quarter.as_of_date,
        quarter.quarter_start_date,
        quarter.quarter_end_date
    from reps
    cross join quarter
    left join quarter_quotas
        on reps.rep_id = quarter_quotas.owner_id
    left join closed_won
        on reps.rep_id = closed_won.owner_id
    left join open_pipeline
        on reps.rep_id = open_pipeline.owner_id
    left join rep_closes
        on reps.rep_id = rep_closes.owner_id
    left join team_closes
        on reps.team = team_closes.team

),

covered as (

    select
        *,
        comparable_quota_amount - closed_won_reporting as remaining_quota,
        case
            when comparable_quota_amount - closed_won_reporting > 0
                then
                    cast(open_pipeline_reporting as double)
                    / (comparable_quota_amount - closed_won_reporting)
        end as pipeline_coverage,
        case
            when quota_amount is null then 'no_quota'
            when comparable_quota_amount is null then 'quota_not_in_reporting_currency'
            when comparable_quota_amount - closed_won_reporting <= 0 then 'quota_met'
            else 'measured'
        end as coverage_status
    from measured

),

final as (

    select
        rep_id,
        rep_name,
        manager_id,
        team,
        '{{ setting("reporting_currency") }}' as reporting_currency,
        quota_currency,
        coverage_status,
        cast(quota_amount as decimal(18, 2)) as quota_amount,
        quota_months,
        cast(closed_won_reporting as decimal(18, 2)) as closed_won_reporting,
        closed_won_count,
        closed_won_left_out,
        cast(open_pipeline_reporting as decimal(18, 2)) as open_pipeline_reporting,
        cast(round(weighted_pipeline_reporting, 2) as decimal(18, 2))
            as weighted_pipeline_reporting,
        cast(commit_reporting as decimal(18, 2)) as commit_reporting,
        cast(best_case_reporting as decimal(18, 2)) as best_case_reporting,
        cast(pipeline_category_reporting as decimal(18, 2)) as pipeline_category_reporting,
        open_count,
        open_left_out,
        overdue_open_count,
        cast(remaining_quota as decimal(18, 2)) as remaining_quota,
        pipeline_coverage,
        cast({{ numeric_setting('pipeline_coverage_threshold') }} as double) as coverage_threshold,
        win_rate_won,
        win_rate_closed,
        cast(win_rate_won as double) / nullif(win_rate_closed, 0) as win_rate,
        cast(team_win_rate_won as bigint) as team_win_rate_won,
        cast(team_win_rate_closed as bigint) as team_win_rate_closed,
        cast(team_win_rate_won as double) / nullif(team_win_rate_closed, 0) as team_win_rate,
        cast(win_rate_won as double) / nullif(win_rate_closed, 0)
        - cast(team_win_rate_won as double) / nullif(team_win_rate_closed, 0)
            as win_rate_vs_team,
        pipeline_coverage < {{ numeric_setting('pipeline_coverage_threshold') }}
            as is_coverage_below_threshold,
        as_of_date,
        quarter_start_date,
        quarter_end_date
    from covered

)

select * from final
