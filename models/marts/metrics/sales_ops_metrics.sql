-- One row per month x segment (plus `All`): the Sales Ops metrics, each ratio with its
-- numerator and denominator so BI tools can re-aggregate by summing the parts.
-- Amounts without a usable FX rate (or without an amount) are left out of the sums and counted
-- per month: won_without_amount, won_unconverted, ad_spend_unconverted, expenses_unconverted.
{%- set margin = setting('gross_margin') %}
{%- set cap = setting('cltv_max_months') %}
with

lead_funnel as (

    select
        segment,
        created_at,
        mql_at,
        sql_at,
        closed_at,
        is_won
    from {{ ref('fct_lead_funnel') }}

),

opportunities as (

    select
        segment,
        amount,
        amount_reporting,
        sales_cycle_days,
        is_closed,
        is_won,
        created_date,
        close_date
    from {{ ref('fct_opportunities') }}

),

cohorts as (

    select
        cohort_month,
        segment,
        leads,
        reached_mql,
        reached_sql,
        reached_opportunity,
        reached_won
    from {{ ref('funnel_conversion') }}

),

ad_spend as (

    select
        spend,
        spend_reporting,
        report_date
    from {{ ref('fct_ad_spend_daily') }}

),

customer_months as (

    select
        segment,
        movement,
        month
    from {{ ref('fct_mrr') }}

),

mrr_months as (

    select
        month,
        segment,
        mrr,
        customers,
        starting_mrr,
        churn_mrr
    from {{ ref('mrr_by_month') }}

),

expenses as (

    select
        department,
        currency,
        amount,
        month_start_date
    from {{ ref('stg_reference__expenses') }}

),

fx_rates as (

    select
        currency,
        calendar_date,
        rate_to_reporting
    from {{ ref('int_fx_rates_daily') }}

),

months as (

    select month_start_date
    from {{ ref('util_months') }}

),

lead_events as (

    select
        segment,
        'lead' as event_type,
        cast({{ dbt.date_trunc('month', 'created_at') }} as date) as month,  -- noqa: RF04
        0 as days_to_close
    from lead_funnel
    union all
    select
        segment,
        'mql' as event_type,
        cast({{ dbt.date_trunc('month', 'mql_at') }} as date) as month,  -- noqa: RF04
        0 as days_to_close
    from lead_funnel
    where mql_at is not null
    union all
    select
        segment,
        'sql' as event_type,
        cast({{ dbt.date_trunc('month', 'sql_at') }} as date) as month,  -- noqa: RF04
        0 as days_to_close
    from lead_funnel
    where sql_at is not null
    union all
    select
        segment,
        'won' as event_type,
        cast({{ dbt.date_trunc('month', 'closed_at') }} as date) as month,  -- noqa: RF04
        {{ dbt.datediff('created_at', 'closed_at', 'day') }} as days_to_close  -- noqa: LT05
    from lead_funnel
    where is_won and closed_at is not null

),

lead_counts as (

    select
        month,
        segment,
        sum(case when event_type = 'lead' then 1 else 0 end) as leads,
        sum(case when event_type = 'mql' then 1 else 0 end) as mqls,
        sum(case when event_type = 'sql' then 1 else 0 end) as sqls,
        sum(case when event_type = 'won' then days_to_close else 0 end) as time_to_close_days,
        sum(case when event_type = 'won' then 1 else 0 end) as time_to_close_leads
    from lead_events
    group by month, segment

),

opportunity_events as (

    select
        segment,
        'created' as event_type,
        created_date as month_date,
        0 as amount_reporting,
        0 as sales_cycle_days,
        0 as is_without_amount,
        0 as is_unconverted
    from opportunities
    union all
    select
        segment,
        case when is_won then 'won' else 'lost' end as event_type,
        close_date as month_date,
        case when is_won then amount_reporting else 0 end as amount_reporting,
        case when is_won then sales_cycle_days else 0 end as sales_cycle_days,
        case when is_won and amount is null then 1 else 0 end as is_without_amount,
        case
            when is_won and amount is not null and amount_reporting is null then 1 else 0
        end as is_unconverted
    from opportunities
    where is_closed and close_date is not null

),

opportunity_counts as (

    select
        segment,
        cast({{ dbt.date_trunc('month', 'month_date') }} as date) as month,  -- noqa: RF04
        sum(case when event_type = 'created' then 1 else 0 end) as opportunities_created,
        sum(case when event_type = 'won' then 1 else 0 end) as opportunities_won,
        sum(case when event_type = 'lost' then 1 else 0 end) as opportunities_lost,
        sum(amount_reporting) as won_amount,
        sum(sales_cycle_days) as sales_cycle_days,
        sum(is_without_amount) as won_without_amount,
        sum(is_unconverted) as won_unconverted
    from opportunity_events
    group by segment, cast({{ dbt.date_trunc('month', 'month_date') }} as date)

),

cohort_counts as (

    select
        cohort_month as month,  -- noqa: RF04
        segment,
        sum(leads) as cohort_leads,
        sum(reached_mql) as cohort_reached_mql,
        sum(reached_sql) as cohort_reached_sql,
        sum(reached_opportunity) as cohort_reached_opportunity,
        sum(reached_won) as cohort_reached_won
    from cohorts
    group by cohort_month, segment

),

new_customer_counts as (

    select
        month,
        segment,
        count(*) as new_customers
    from customer_months
    where movement = 'new'
    group by month, segment

),

activity as (

    select
        month,
        segment,
        leads,
        mqls,
        sqls,
        time_to_close_days,
        time_to_close_leads,
        0 as opportunities_created,
        0 as opportunities_won,
        0 as opportunities_lost,
        0 as won_amount,
        0 as sales_cycle_days,
        0 as won_without_amount,
        0 as won_unconverted,
        0 as cohort_leads,
        0 as cohort_reached_mql,
        0 as cohort_reached_sql,
        0 as cohort_reached_opportunity,
        0 as cohort_reached_won,
        0 as new_customers
    from lead_counts
    union all
    select
        month,
        segment,
        0 as leads,
        0 as mqls,
        0 as sqls,
        0 as time_to_close_days,
        0 as time_to_close_leads,
        opportunities_created,
        opportunities_won,
        opportunities_lost,
        won_amount,
        sales_cycle_days,
        won_without_amount,
        won_unconverted,
        0 as cohort_leads,
        0 as cohort_reached_mql,
        0 as cohort_reached_sql,
        0 as cohort_reached_opportunity,
        0 as cohort_reached_won,
        0 as new_customers
    from opportunity_counts
    union all
    select
        month,
        segment,
        0 as leads,
        0 as mqls,
        0 as sqls,
        0 as time_to_close_days,
        0 as time_to_close_leads,
        0 as opportunities_created,
        0 as opportunities_won,
        0 as opportunities_lost,
        0 as won_amount,
        0 as sales_cycle_days,
        0 as won_without_amount,
        0 as won_unconverted,
        cohort_leads,
        cohort_reached_mql,
        cohort_reached_sql,
        cohort_reached_opportunity,
        cohort_reached_won,
        0 as new_customers
    from cohort_counts
    union all
    select
        month,
        segment,
        0 as leads,
        0 as mqls,
        0 as sqls,
        0 as time_to_close_days,
        0 as time_to_close_leads,
        0 as opportunities_created,
        0 as opportunities_won,
        0 as opportunities_lost,
        0 as won_amount,
        0 as sales_cycle_days,
        0 as won_without_amount,
        0 as won_unconverted,
        0 as cohort_leads,
        0 as cohort_reached_mql,
        0 as cohort_reached_sql,
        0 as cohort_reached_opportunity,
        0 as cohort_reached_won,
        new_customers
    from new_customer_counts

),

activity_with_all as (

    select * from activity
    union all
    select
        month,
        'All' as segment,
        leads,
        mqls,
        sqls,
        time_to_close_days,
        time_to_close_leads,
        opportunities_created,
        opportunities_won,
        opportunities_lost,
        won_amount,
        sales_cycle_days,
        won_without_amount,
        won_unconverted,
        cohort_leads,
        cohort_reached_mql,
        cohort_reached_sql,
        cohort_reached_opportunity,
        cohort_reached_won,
        new_customers
    from activity

),

spend_by_month as (

    select
        cast({{ dbt.date_trunc('month', 'report_date') }} as date) as month,  -- noqa: RF04
        sum(spend_reporting) as ad_spend,
        sum(
            case when spend is not null and spend_reporting is null then 1 else 0 end
        ) as ad_spend_unconverted
    from ad_spend
    group by cast({{ dbt.date_trunc('month', 'report_date') }} as date)

),

expenses_by_month as (

    select
        expenses.month_start_date as month,  -- noqa: RF04
        sum(round(expenses.amount * fx_rates.rate_to_reporting, 2)) as expenses,
        sum(
            case
                when expenses.amount is not null and fx_rates.rate_to_reporting is null then 1
                else 0
            end
        ) as expenses_unconverted
    from expenses
    left join fx_rates
        on
            expenses.currency = fx_rates.currency
            and expenses.month_start_date = fx_rates.calendar_date
    where expenses.department in ('sales', 'marketing')
    group by expenses.month_start_date

),

last_activity as (

    select max(month) as last_month
    from (
        select month from activity
        union all
        select month from spend_by_month
    ) as activity_months

),

segments as (

    select distinct segment from activity_with_all
    union
    select 'All' as segment

),

spine as (

    select
        months.month_start_date as month,  -- noqa: RF04
        segments.segment
    from months
    cross join segments
    cross join last_activity
    where months.month_start_date <= last_activity.last_month

),

aggregated as (

    select
        spine.month,
        spine.segment,
        cast(coalesce(sum(activity_with_all.leads), 0) as bigint) as leads,
        cast(coalesce(sum(activity_with_all.mqls), 0) as bigint) as mqls,
        cast(coalesce(sum(activity_with_all.sqls), 0) as bigint) as sqls,
        cast(
            coalesce(sum(activity_with_all.opportunities_created), 0) as bigint
        ) as opportunities_created,
        cast(coalesce(sum(activity_with_all.opportunities_won), 0) as bigint) as opportunities_won,
        cast(
            coalesce(sum(activity_with_all.opportunities_lost), 0) as bigint
        ) as opportunities_lost,
        cast(coalesce(sum(activity_with_all.won_amount), 0) as decimal(18, 2)) as won_amount,
        cast(
            coalesce(sum(activity_with_all.sales_cycle_days), 0) as bigint
        ) as sales_cycle_days,
        cast(
            coalesce(sum(activity_with_all.won_without_amount), 0) as bigint
        ) as won_without_amount,
        cast(coalesce(sum(activity_with_all.won_unconverted), 0) as bigint) as won_unconverted,
        cast(
            coalesce(sum(activity_with_all.time_to_close_days), 0) as bigint
        ) as time_to_close_days,
        cast(
            coalesce(sum(activity_with_all.time_to_close_leads), 0) as bigint
        ) as time_to_close_leads,
        cast(coalesce(sum(activity_with_all.cohort_leads), 0) as bigint) as cohort_leads,
        cast(
            coalesce(sum(activity_with_all.cohort_reached_mql), 0) as bigint
        ) as cohort_reached_mql,
        cast(
            coalesce(sum(activity_with_all.cohort_reached_sql), 0) as bigint
        ) as cohort_reached_sql,
        cast(
            coalesce(sum(activity_with_all.cohort_reached_opportunity), 0) as bigint
        ) as cohort_reached_opportunity,
        cast(
            coalesce(sum(activity_with_all.cohort_reached_won), 0) as bigint
        ) as cohort_reached_won,
        cast(coalesce(sum(activity_with_all.new_customers), 0) as bigint) as new_customers
    from spine
    left join activity_with_all
        on
            spine.month = activity_with_all.month
            and spine.segment = activity_with_all.segment
    group by spine.month, spine.segment

),

costed as (

    select
        aggregated.*,
        case
            when aggregated.segment = 'All'
                then cast(coalesce(spend_by_month.ad_spend, 0) as decimal(18, 2))
        end as ad_spend,
        case
            when aggregated.segment = 'All'
                then cast(coalesce(spend_by_month.ad_spend_unconverted, 0) as bigint)
        end as ad_spend_unconverted,
        case
            when aggregated.segment = 'All'
                then cast(expenses_by_month.expenses as decimal(18, 2))
        end as sales_marketing_expenses,
        case
            when aggregated.segment = 'All'
                then cast(coalesce(expenses_by_month.expenses_unconverted, 0) as bigint)
        end as expenses_unconverted,
        coalesce(mrr_months.mrr, 0) as mrr,
        coalesce(mrr_months.customers, 0) as customers,
        coalesce(mrr_months.starting_mrr, 0) as starting_mrr,
        coalesce(mrr_months.churn_mrr, 0) as churn_mrr
    from aggregated
    left join spend_by_month
        on aggregated.month = spend_by_month.month
    left join expenses_by_month
        on aggregated.month = expenses_by_month.month
    left join mrr_months
        on
            aggregated.month = mrr_months.month
            and aggregated.segment = mrr_months.segment

),

ratios as (

    select
        *,
        opportunities_won + opportunities_lost as close_rate_denominator,
        cast(ad_spend + sales_marketing_expenses as decimal(18, 2)) as cac_fully_loaded_numerator,
        case
            when customers > 0 then cast(mrr as double) / customers
        end as arpa,
        case
            when starting_mrr > 0 then cast(churn_mrr as double) / cast(starting_mrr as double)
        end as revenue_churn_rate
    from costed

),

lifetimes as (

    select
        *,
        case
            when revenue_churn_rate is null then null
            when revenue_churn_rate = 0 then cast({{ cap }} as double)
            when 1.0 / revenue_churn_rate > {{ cap }} then cast({{ cap }} as double)
            else 1.0 / revenue_churn_rate
        end as customer_lifetime_months,
        case
            when new_customers > 0 then cast(ad_spend as double) / new_customers
        end as cac_paid,
        case
            when new_customers > 0
                then cast(cac_fully_loaded_numerator as double) / new_customers
        end as cac_fully_loaded
    from ratios

),

final as (

    select
        segment,
        leads,
        mqls,
        sqls,
        opportunities_created,
        opportunities_won,
        opportunities_lost,
        won_amount,
        won_without_amount,
        won_unconverted,
        opportunities_won as close_rate_numerator,
        close_rate_denominator,
        case
            when close_rate_denominator > 0
                then cast(opportunities_won as double) / close_rate_denominator
        end as close_rate,
        case
            when opportunities_lost > 0
                then cast(opportunities_won as double) / opportunities_lost
        end as win_loss_ratio,
        sales_cycle_days,
        case
            when opportunities_won > 0 then cast(sales_cycle_days as double) / opportunities_won
        end as avg_sales_cycle_days,
        time_to_close_days,
        time_to_close_leads,
        case
            when time_to_close_leads > 0
                then cast(time_to_close_days as double) / time_to_close_leads
        end as avg_time_to_close_days,
        cohort_leads,
        cohort_reached_mql,
        cohort_reached_sql,
        cohort_reached_opportunity,
        cohort_reached_won,
        case
            when cohort_leads > 0 then cast(cohort_reached_mql as double) / cohort_leads
        end as pct_leads_to_mql,
        case
            when cohort_leads > 0 then cast(cohort_reached_sql as double) / cohort_leads
        end as pct_leads_to_sql,
        case
            when cohort_leads > 0 then cast(cohort_reached_opportunity as double) / cohort_leads
        end as pct_leads_to_opportunity,
        case
            when cohort_leads > 0 then cast(cohort_reached_won as double) / cohort_leads
        end as pct_leads_to_won,
        ad_spend,
        ad_spend_unconverted,
        case
            when leads > 0 then cast(ad_spend as double) / leads
        end as cost_per_lead,
        sales_marketing_expenses,
        expenses_unconverted,
        cac_fully_loaded_numerator,
        new_customers,
        cac_paid,
        cac_fully_loaded,
        mrr as arpa_numerator,
        customers as arpa_denominator,
        arpa,
        churn_mrr as revenue_churn_numerator,
        starting_mrr as revenue_churn_denominator,
        revenue_churn_rate,
        customer_lifetime_months,
        arpa * {{ margin }} * customer_lifetime_months as cltv,
        case
            when coalesce(cac_fully_loaded, cac_paid) > 0
                then
                    arpa * {{ margin }} * customer_lifetime_months
                    / coalesce(cac_fully_loaded, cac_paid)
        end as ltv_to_cac,
        case
            when arpa > 0 then coalesce(cac_fully_loaded, cac_paid) / (arpa * {{ margin }})
        end as cac_payback_months,
        month
    from lifetimes

)

select * from final
