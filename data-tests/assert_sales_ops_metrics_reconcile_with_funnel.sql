-- Fails with one row per month where the All row of sales_ops_metrics disagrees with the funnel
-- marts: leads, MQLs and SQLs (fct_lead_funnel by event month) and won amount
-- (fct_opportunities by close month).
with

metrics as (

    select
        month,
        leads,
        mqls,
        sqls,
        won_amount
    from {{ ref('sales_ops_metrics') }}
    where segment = 'All'

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
        month,
        sum(is_lead) as leads,
        sum(is_mql) as mqls,
        sum(is_sql) as sqls
    from lead_events
    group by month

),

won as (

    select
        cast({{ dbt.date_trunc('month', 'close_date') }} as date) as month,  -- noqa: RF04
        sum(amount_reporting) as won_amount
    from {{ ref('fct_opportunities') }}
    where is_won
    group by cast({{ dbt.date_trunc('month', 'close_date') }} as date)

),

expected as (

    select
        coalesce(funnel.month, won.month) as month,  -- noqa: RF04
        coalesce(funnel.leads, 0) as leads,
        coalesce(funnel.mqls, 0) as mqls,
        coalesce(funnel.sqls, 0) as sqls,
        coalesce(won.won_amount, 0) as won_amount
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
        metrics.won_amount
    from expected
    full outer join metrics
        on expected.month = metrics.month
    where
        coalesce(expected.leads, 0) <> coalesce(metrics.leads, 0)
        or coalesce(expected.mqls, 0) <> coalesce(metrics.mqls, 0)
        or coalesce(expected.sqls, 0) <> coalesce(metrics.sqls, 0)
        or coalesce(expected.won_amount, 0) <> coalesce(metrics.won_amount, 0)

)

select * from final
