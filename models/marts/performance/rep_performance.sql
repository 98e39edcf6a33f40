-- One row per month x rep (dim_reps.is_rep: the rep rule of int_users_classified; every month
-- of the spine up to the last month with lead or opportunity activity): leads, SQLs,
-- opportunities created, won and lost, won amount (with the won deals it leaves out: no amount,
-- or no usable FX rate), sales cycle, open and weighted pipeline at month end and the month's
-- share of the quarterly quota. The pipeline is as known at month end (fct_pipeline_snapshots),
-- never today's amount and stage. Every ratio ships with its numerator and denominator.
-- Opportunity counts, close rate, won amount and sales cycle are of new-business deals; quota
-- attainment divides the won amount of the deal categories the setting quota_deal_categories
-- names (default new_business: the quota file holds new-bookings targets) by the quota.
{%- set quota_categories = list_setting('quota_deal_categories') %}
with

reps as (

    select rep_id
    from {{ ref('dim_reps') }}
    where is_rep

),

months as (

    select
        month_start_date,
        month_end_date
    from {{ ref('util_months') }}

),

leads as (

    select
        owner_id,
        created_at,
        sql_at
    from {{ ref('fct_lead_funnel') }}

),

opportunities as (

    select
        owner_id,
        deal_category,
        amount,
        amount_reporting,
        probability,
        sales_cycle_days,
        is_closed,
        is_won,
        is_slipped,
        created_date,
        close_date
    from {{ ref('fct_opportunities') }}

),

as_of_dates as (

    select as_of_date from {{ ref('util_pipeline_as_of_dates') }}

),

snapshots as (

    select
        as_of_date,
        owner_id,
        amount_reporting,
        probability,
        is_past_close_date
    from {{ ref('fct_pipeline_snapshots') }}

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

lead_events as (

    select
        owner_id,
        cast({{ dbt.date_trunc("month", "created_at") }} as date) as month_start_date,
        1 as is_lead,
        0 as is_sql
    from leads
    union all
    select
        owner_id,
        cast({{ dbt.date_trunc("month", "sql_at") }} as date) as month_start_date,
        0 as is_lead,
        1 as is_sql
    from leads
    where sql_at is not null

),

lead_counts as (

    select
        owner_id,
        month_start_date,
        sum(is_lead) as leads,
        sum(is_sql) as sqls
    from lead_events
    group by
        owner_id,
        month_start_date

),

created_counts as (

    select
        owner_id,
        cast({{ dbt.date_trunc("month", "created_date") }} as date) as month_start_date,
        count(*) as opportunities_created
    from opportunities
    where deal_category = 'new_business'
    group by
        owner_id,
        cast({{ dbt.date_trunc("month", "created_date") }} as date)

),

closed_opportunities as (

    select
        owner_id,
        amount,
        amount_reporting,
        sales_cycle_days,
        is_won,
        close_date,
        deal_category = 'new_business' as is_new_business,
        deal_category in (
            {%- for category in quota_categories %}
            '{{ category }}'{{ ',' if not loop.last }}
            {%- endfor %}
        ) as is_quota_category
    from opportunities
    where is_closed

),

closed_counts as (

    select
        owner_id,
        cast({{ dbt.date_trunc("month", "close_date") }} as date) as month_start_date,
        sum(case when is_new_business and is_won then 1 else 0 end) as opportunities_won,
        sum(case when is_new_business and not is_won then 1 else 0 end) as opportunities_lost,
        sum(case when is_new_business and is_won then amount_reporting else 0 end)
            as won_amount_reporting,
        -- won deals left out of the won amount: no Amount, or an amount without a usable rate
        sum(case when is_new_business and is_won and amount is null then 1 else 0 end)
            as won_without_amount,
        sum(
            case
                when is_new_business and is_won and amount is not null and amount_reporting is null
                    then 1
                else 0
            end
        ) as won_unconverted,
        sum(case when is_new_business and is_won then sales_cycle_days else 0 end)
            as won_sales_cycle_days,
        sum(case when is_quota_category and is_won then amount_reporting else 0 end)
            as quota_bookings_reporting,
        sum(case when is_quota_category and is_won and amount_reporting is null then 1 else 0 end)
            as quota_bookings_left_out
    from closed_opportunities
    group by
        owner_id,
        cast({{ dbt.date_trunc("month", "close_date") }} as date)

),

activity_months as (

    select month_start_date from lead_counts
    union all
    select month_start_date from created_counts
    union all
    select month_start_date from closed_counts

),

last_month as (

    select max(month_start_date) as month_start_date from activity_months

),

spine as (

    select
        months.month_start_date,
        months.month_end_date,
        reps.rep_id
    from months
    inner join last_month
        on months.month_start_date <= last_month.month_start_date
    cross join reps

),

-- The day each month's pipeline is taken: its month end, or for a month whose end is after the
-- data's last complete day the latest as-of date inside it (util_pipeline_as_of_dates).
month_as_of_dates as (

    select
        months.month_start_date,
        max(as_of_dates.as_of_date) as pipeline_as_of_date
    from months
    inner join as_of_dates
        on
            months.month_start_date <= as_of_dates.as_of_date
            and months.month_end_date >= as_of_dates.as_of_date
    group by months.month_start_date

),

-- open at that day's end as known then (fct_pipeline_snapshots: amount at that day's rate,
-- stage probability and close date as they stood), not with today's amount and stage
open_pipeline as (

    select
        month_as_of_dates.month_start_date,
        snapshots.owner_id as rep_id,
        sum(snapshots.amount_reporting) as open_pipeline_reporting,
        -- exact: decimal products summed (probability is a decimal 0..1), rounded once below
        sum(snapshots.amount_reporting * snapshots.probability) as weighted_pipeline_reporting,
        -- slipped: its close date, as known then, had passed by that day
        sum(case when snapshots.is_past_close_date then 1 else 0 end) as slipped_opportunities,
        sum(case when snapshots.is_past_close_date then snapshots.amount_reporting end)
            as slipped_pipeline_reporting
    from month_as_of_dates
    inner join snapshots
        on month_as_of_dates.pipeline_as_of_date = snapshots.as_of_date
    group by
        month_as_of_dates.month_start_date,
        snapshots.owner_id

),

-- a quota period's amount is spread evenly over the calendar months it covers
quota_months as (

    select
        quotas.owner_id,
        quotas.currency,
        quotas.quota_amount,
        months.month_start_date,
        (extract(year from quotas.period_end_date) - extract(year from quotas.period_start_date))
        * 12
        + extract(month from quotas.period_end_date)
        - extract(month from quotas.period_start_date)
        + 1 as period_months
    from quotas
    inner join months
        on
            quotas.period_start_date <= months.month_start_date
            and quotas.period_end_date >= months.month_start_date

),

monthly_quotas as (

    select
        owner_id,
        month_start_date,
        min(currency) as quota_currency,
        sum(round(quota_amount / period_months, 2)) as quota_amount
    from quota_months
    group by
        owner_id,
        month_start_date

),

final as (

    select
        spine.rep_id,
        '{{ setting("reporting_currency") }}' as reporting_currency,
        monthly_quotas.quota_currency,
        cast(coalesce(lead_counts.leads, 0) as bigint) as leads,
        cast(coalesce(lead_counts.sqls, 0) as bigint) as sqls,
        cast(coalesce(created_counts.opportunities_created, 0) as bigint)
            as opportunities_created,
        cast(coalesce(closed_counts.opportunities_won, 0) as bigint) as opportunities_won,
        cast(coalesce(closed_counts.opportunities_lost, 0) as bigint) as opportunities_lost,
        cast(
            coalesce(closed_counts.opportunities_won, 0)
            + coalesce(closed_counts.opportunities_lost, 0) as bigint
        ) as opportunities_closed,
        cast(coalesce(closed_counts.opportunities_won, 0) as double)
        / nullif(
            coalesce(closed_counts.opportunities_won, 0)
            + coalesce(closed_counts.opportunities_lost, 0),
            0
        ) as close_rate,
        cast(coalesce(closed_counts.won_amount_reporting, 0) as decimal(18, 2))
            as won_amount_reporting,
        cast(coalesce(closed_counts.won_without_amount, 0) as bigint) as won_without_amount,
        cast(coalesce(closed_counts.won_unconverted, 0) as bigint) as won_unconverted,
        cast(coalesce(closed_counts.won_sales_cycle_days, 0) as bigint)
            as won_sales_cycle_days,
        cast(coalesce(closed_counts.won_sales_cycle_days, 0) as double)
        / nullif(coalesce(closed_counts.opportunities_won, 0), 0) as avg_sales_cycle_days,
        -- 0 for a rep without open deals that day; null for a month without a pipeline day
        case
            when month_as_of_dates.pipeline_as_of_date is not null
                then cast(coalesce(open_pipeline.open_pipeline_reporting, 0) as decimal(18, 2))
        end as open_pipeline_reporting,
        case
            when month_as_of_dates.pipeline_as_of_date is not null
                then cast(
                    round(coalesce(open_pipeline.weighted_pipeline_reporting, 0), 2)
                    as decimal(18, 2)
                )
        end as weighted_pipeline_reporting,
        case
            when month_as_of_dates.pipeline_as_of_date is not null
                then cast(coalesce(open_pipeline.slipped_opportunities, 0) as bigint)
        end as slipped_opportunities,
        case
            when month_as_of_dates.pipeline_as_of_date is not null
                then cast(
                    coalesce(open_pipeline.slipped_pipeline_reporting, 0) as decimal(18, 2)
                )
        end as slipped_pipeline_reporting,
        month_as_of_dates.pipeline_as_of_date,
        cast(monthly_quotas.quota_amount as decimal(18, 2)) as quota_amount,
        cast(coalesce(closed_counts.quota_bookings_reporting, 0) as decimal(18, 2))
            as quota_bookings_reporting,
        cast(coalesce(closed_counts.quota_bookings_left_out, 0) as bigint)
            as quota_bookings_left_out,
        -- attainment only when the quota is in the reporting currency (no FX on targets)
        cast(coalesce(closed_counts.quota_bookings_reporting, 0) as double)
        / nullif(
            case
                when monthly_quotas.quota_currency = '{{ setting("reporting_currency") }}'
                    then monthly_quotas.quota_amount
            end,
            0
        ) as quota_attainment,
        spine.month_start_date
    from spine
    left join lead_counts
        on
            spine.rep_id = lead_counts.owner_id
            and spine.month_start_date = lead_counts.month_start_date
    left join created_counts
        on
            spine.rep_id = created_counts.owner_id
            and spine.month_start_date = created_counts.month_start_date
    left join closed_counts
        on
            spine.rep_id = closed_counts.owner_id
            and spine.month_start_date = closed_counts.month_start_date
    left join month_as_of_dates
        on spine.month_start_date = month_as_of_dates.month_start_date
    left join open_pipeline
        on
            spine.rep_id = open_pipeline.rep_id
            and spine.month_start_date = open_pipeline.month_start_date
    left join monthly_quotas
        on
            spine.rep_id = monthly_quotas.owner_id
            and spine.month_start_date = monthly_quotas.month_start_date

)

select * from final
