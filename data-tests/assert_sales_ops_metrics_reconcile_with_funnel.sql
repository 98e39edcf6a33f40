-- Fails with one row per month where the All rows of the metric marts disagree with the funnel
-- marts: leads, MQLs and SQLs of sales_ops_metrics (fct_lead_funnel by event month), and won
-- amount, won deals without an amount and won deals without a usable FX rate summed over the
-- deal categories of sales_ops_metrics_by_deal_category (fct_opportunities by close month; the
-- new_business rows are sales_ops_metrics' own), within the history window
-- (util_history_window: rows outside it are reported by the warning check
-- assert_rows_inside_history_window). The mart side is compared as it is, with
-- `is distinct from`: its counts and sums are never null (0 when empty), so a null fails.
with

lead_metrics as (

    select
        month,
        leads,
        mqls,
        sqls
    from {{ ref('sales_ops_metrics') }}
    where segment = 'All'

),

deal_metrics as (

    -- A null in any category's row makes the month's sum null (sum() would skip it).
    select
        month,
        case when count(*) = count(won_amount) then sum(won_amount) end as won_amount,
        case
            when count(*) = count(won_without_amount) then sum(won_without_amount)
        end as won_without_amount,
        case
            when count(*) = count(won_unconverted) then sum(won_unconverted)
        end as won_unconverted
    from {{ ref('sales_ops_metrics_by_deal_category') }}
    where segment = 'All'
    group by month

),

metrics as (

    select
        lead_metrics.month,
        lead_metrics.leads,
        lead_metrics.mqls,
        lead_metrics.sqls,
        -- no deal-category row for the month: nothing was won in it
        case when deal_metrics.month is null then 0 else deal_metrics.won_amount end
            as won_amount,
        case
            when deal_metrics.month is null then 0 else deal_metrics.won_without_amount
        end as won_without_amount,
        case
            when deal_metrics.month is null then 0 else deal_metrics.won_unconverted
        end as won_unconverted
    from lead_metrics
    left join deal_metrics
        on lead_metrics.month = deal_metrics.month

),

history_window as (

    select
        history_start_date,
        last_month_end_date
    from {{ ref('util_history_window') }}

),

lead_events as (

    select
        cast({{ dbt.date_trunc('month', 'created_at') }} as date) as month,  -- noqa: RF04
        1 as is_lead,
        0 as is_mql,
        0 as is_sql
    from {{ ref('fct_lead_funnel') }}
    union all
    select
        cast({{ dbt.date_trunc('month', 'mql_at') }} as date) as month,  -- noqa: RF04
        0 as is_lead,
        1 as is_mql,
        0 as is_sql
    from {{ ref('fct_lead_funnel') }}
    where mql_at is not null
    union all
    select
        cast({{ dbt.date_trunc('month', 'sql_at') }} as date) as month,  -- noqa: RF04
        0 as is_lead,
        0 as is_mql,
        1 as is_sql
    from {{ ref('fct_lead_funnel') }}
    where sql_at is not null

),

funnel as (

    select
        lead_events.month,
        sum(lead_events.is_lead) as leads,
        sum(lead_events.is_mql) as mqls,
        sum(lead_events.is_sql) as sqls
    from lead_events
    inner join history_window
        on
            lead_events.month >= history_window.history_start_date
            and lead_events.month <= history_window.last_month_end_date
    group by lead_events.month

),

won as (

    select
        cast({{ dbt.date_trunc('month', 'opportunities.close_date') }} as date) as month,  -- noqa: RF04, LT05
        sum(opportunities.amount_reporting) as won_amount,
        sum(case when opportunities.amount is null then 1 else 0 end) as won_without_amount,
        sum(
            case
                when
                    opportunities.amount is not null
                    and opportunities.amount_reporting is null
                    then 1
                else 0
            end
        ) as won_unconverted
    from {{ ref('fct_opportunities') }} as opportunities
    cross join history_window
    where
        opportunities.is_won
        -- a won deal without a close date is kept: it fails the test (lost from the metrics)
        and (
            opportunities.close_date is null
            or (
                opportunities.close_date >= history_window.history_start_date
                and opportunities.close_date <= history_window.last_month_end_date
            )
        )
    group by cast({{ dbt.date_trunc('month', 'opportunities.close_date') }} as date)

),

expected as (

    select
        coalesce(funnel.month, won.month) as month,  -- noqa: RF04
        coalesce(funnel.leads, 0) as leads,
        coalesce(funnel.mqls, 0) as mqls,
        coalesce(funnel.sqls, 0) as sqls,
        coalesce(won.won_amount, 0) as won_amount,
        coalesce(won.won_without_amount, 0) as won_without_amount,
        coalesce(won.won_unconverted, 0) as won_unconverted
    from funnel
    full outer join won
        on funnel.month = won.month

),

final as (

    select
        coalesce(expected.month, metrics.month) as month,  -- noqa: RF04
        expected.leads as expected_leads,
        metrics.leads,
        expected.mqls as expected_mqls,
        metrics.mqls,
        expected.sqls as expected_sqls,
        metrics.sqls,
        expected.won_amount as expected_won_amount,
        metrics.won_amount,
        expected.won_without_amount as expected_won_without_amount,
        metrics.won_without_amount,
        expected.won_unconverted as expected_won_unconverted,
        metrics.won_unconverted
    from expected
    full outer join metrics
        on expected.month = metrics.month
    where
        coalesce(expected.leads, 0) is distinct from metrics.leads
        or coalesce(expected.mqls, 0) is distinct from metrics.mqls
        or coalesce(expected.sqls, 0) is distinct from metrics.sqls
        or coalesce(expected.won_amount, 0) is distinct from metrics.won_amount
        or coalesce(expected.won_without_amount, 0) is distinct from metrics.won_without_amount
        or coalesce(expected.won_unconverted, 0) is distinct from metrics.won_unconverted

)

select * from final
