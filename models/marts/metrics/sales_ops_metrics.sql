-- One row per month x segment (plus `All`): the Sales Ops metrics, each ratio with its
-- numerator and denominator so BI tools can re-aggregate by summing the parts.
-- Opportunity metrics (created, won, lost, won amount, close rate, win/loss, sales cycle, time
-- to close, average deal size) are of new-business deals: the same metrics per deal category
-- are in sales_ops_metrics_by_deal_category, whose new_business rows these are.
-- Amounts without a usable FX rate (or without an amount) are left out of the sums and counted
-- per month: won_without_amount, won_unconverted, ad_spend_unconverted, expenses_unconverted.
-- Cost metrics (CAC, cost per lead) exist per basis (paid, fully loaded) and are null unless the
-- month is closed and every source they read was delivered through its last day
-- (int_cost_inputs_delivered); `is_complete` says whether every source of the row was.
{%- set margin = setting('gross_margin') %}
{%- set cap = setting('cltv_max_months') %}
{%- set lag = numeric_setting('cac_lag_months', whole=true) | int %}
{%- set program_categories = list_setting('marketing_program_expense_categories') %}
{%- set event_channel = setting('event_channel') %}
{#- The additive parts of every row, by the activity they count: [column, type]. #}
{%- set lead_measures = [
    ['leads', 'bigint'],
    ['paid_leads', 'bigint'],
    ['event_leads', 'bigint'],
    ['mqls', 'bigint'],
    ['sqls', 'bigint'],
] %}
{%- set deal_measures = opportunity_measures() %}
{%- set cohort_measures = [
    ['cohort_leads', 'bigint'],
    ['cohort_reached_mql', 'bigint'],
    ['cohort_reached_sql', 'bigint'],
    ['cohort_reached_opportunity', 'bigint'],
    ['cohort_reached_won', 'bigint'],
] %}
{%- set customer_measures = [['new_customers', 'bigint']] %}
{%- set measures = lead_measures + deal_measures + cohort_measures + customer_measures %}
with

lead_funnel as (

    select
        segment,
        channel,
        created_at,
        mql_at,
        sql_at
    from {{ ref('fct_lead_funnel') }}

),

channel_map as (

    select
        channel,
        ad_platform
    from {{ org_mapping('lead_source_channels') }}

),

cost_inputs as (

    select
        month_start_date,
        is_month_closed,
        is_ad_spend_complete,
        is_expenses_complete,
        is_crm_complete,
        is_billing_complete
    from {{ ref('int_cost_inputs_delivered') }}

),

new_business_deals as (

    -- the columns of opportunity_measures()
    select
        month,
        segment,
        opportunities_created,
        opportunities_won,
        opportunities_lost,
        won_amount,
        won_with_amount,
        won_without_amount,
        won_unconverted,
        sales_cycle_days,
        time_to_close_days,
        time_to_close_leads
    from {{ ref('sales_ops_metrics_by_deal_category') }}
    where deal_category = 'new_business' and segment <> 'All'

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
        gross_revenue_churn_numerator,
        gross_revenue_churn_denominator
    from {{ ref('mrr_by_month') }}

),

expenses as (

    select
        department,
        expense_category,
        amount_reporting,
        is_unconverted,
        month_start_date
    from {{ ref('int_expenses_converted') }}

),

months as (

    select month_start_date
    from {{ ref('util_months') }}

),

paid_channels as (

    -- a channel is paid when an ad platform's spend maps to it
    select distinct channel
    from channel_map
    where ad_platform is not null

),

lead_events as (

    select
        lead_funnel.segment,
        case
            when paid_channels.channel is not null then 'paid_lead'
            when
                lead_funnel.channel = '{{ event_channel }}'
                then 'event_lead'
            else 'lead'
        end as event_type,
        cast({{ dbt.date_trunc('month', 'lead_funnel.created_at') }} as date) as month  -- noqa: RF04, LT05
    from lead_funnel
    left join paid_channels
        on lead_funnel.channel = paid_channels.channel
    union all
    select
        segment,
        'mql' as event_type,
        cast({{ dbt.date_trunc('month', 'mql_at') }} as date) as month  -- noqa: RF04
    from lead_funnel
    where mql_at is not null
    union all
    select
        segment,
        'sql' as event_type,
        cast({{ dbt.date_trunc('month', 'sql_at') }} as date) as month  -- noqa: RF04
    from lead_funnel
    where sql_at is not null

),

lead_counts as (

    select
        month,
        segment,
        sum(
            case when event_type in ('lead', 'paid_lead', 'event_lead') then 1 else 0 end
        ) as leads,
        sum(case when event_type = 'paid_lead' then 1 else 0 end) as paid_leads,
        sum(case when event_type = 'event_lead' then 1 else 0 end) as event_leads,
        sum(case when event_type = 'mql' then 1 else 0 end) as mqls,
        sum(case when event_type = 'sql' then 1 else 0 end) as sqls
    from lead_events
    group by month, segment

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

-- CLTV's churn input: gross revenue churn (contraction + churn MRR) over starting MRR, summed
-- over this and the 11 previous months (an MRR-weighted average of the monthly rates).
trailing_churn as (

    select
        this_month.month,
        this_month.segment,
        sum(window_months.gross_revenue_churn_numerator)
            as trailing_12m_gross_revenue_churn_numerator,
        sum(window_months.gross_revenue_churn_denominator)
            as trailing_12m_gross_revenue_churn_denominator
    from mrr_months as this_month
    inner join mrr_months as window_months
        on
            this_month.segment = window_months.segment
            and this_month.month >= window_months.month
            and cast({{ dbt.dateadd('month', -12, 'this_month.month') }} as date)
            < window_months.month
    group by this_month.month, this_month.segment

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
        sum(expenses.amount_reporting) as expenses,
        -- marketing programs (events, agencies, ...) beside ad spend: the full marketing cost
        sum(
            case
                when
                    expenses.department = 'marketing'
                    and expenses.expense_category in ({{ quoted_list(program_categories) }})
                    then expenses.amount_reporting
            end
        ) as marketing_program_expenses,
        sum(
            case
                when expenses.department = 'marketing' and expenses.expense_category = 'events'
                    then expenses.amount_reporting
            end
        ) as event_expenses,
        sum(case when expenses.is_unconverted then 1 else 0 end) as expenses_unconverted
    from expenses
    where expenses.department in ('sales', 'marketing')
    group by expenses.month_start_date

),

last_activity as (

    select max(month) as last_month
    from (
        select month from lead_counts
        union all
        select month from new_business_deals
        union all
        select month from cohort_counts
        union all
        select month from new_customer_counts
        union all
        select month from spend_by_month
    ) as activity_months

),

segments as (

    select segment from lead_counts
    union
    select segment from new_business_deals
    union
    select segment from cohort_counts
    union
    select segment from new_customer_counts

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

segment_rows as (

    select
        spine.month,
        spine.segment,
        {{ summed_measures('lead_counts', lead_measures) }},
        {{ summed_measures('new_business_deals', deal_measures) }},
        {{ summed_measures('cohort_counts', cohort_measures) }},
        {{ summed_measures('new_customer_counts', customer_measures) }}
    from spine
    left join lead_counts
        on spine.month = lead_counts.month and spine.segment = lead_counts.segment
    left join new_business_deals
        on
            spine.month = new_business_deals.month
            and spine.segment = new_business_deals.segment
    left join cohort_counts
        on spine.month = cohort_counts.month and spine.segment = cohort_counts.segment
    left join new_customer_counts
        on
            spine.month = new_customer_counts.month
            and spine.segment = new_customer_counts.segment
    group by spine.month, spine.segment

),

aggregated as (

    {{ with_all_segment('segment_rows', ['month'], measures) }}

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
        -- delivered expenses without a program or event row are 0; undelivered ones null
        case
            when aggregated.segment = 'All' and expenses_by_month.month is not null
                then cast(
                    coalesce(expenses_by_month.marketing_program_expenses, 0) as decimal(18, 2)
                )
        end as marketing_program_expenses,
        case
            when aggregated.segment = 'All' and expenses_by_month.month is not null
                then cast(coalesce(expenses_by_month.event_expenses, 0) as decimal(18, 2))
        end as event_expenses,
        coalesce(cost_inputs.is_month_closed, false) as is_month_closed,
        coalesce(cost_inputs.is_ad_spend_complete, false) as is_ad_spend_complete,
        coalesce(cost_inputs.is_expenses_complete, false) as is_expenses_complete,
        coalesce(cost_inputs.is_crm_complete, false) as is_crm_complete,
        coalesce(cost_inputs.is_billing_complete, false) as is_billing_complete,
        coalesce(mrr_months.mrr, 0) as mrr,
        coalesce(mrr_months.customers, 0) as customers,
        cast(
            coalesce(trailing_churn.trailing_12m_gross_revenue_churn_numerator, 0)
            as decimal(18, 2)
        ) as trailing_12m_gross_revenue_churn_numerator,
        cast(
            coalesce(trailing_churn.trailing_12m_gross_revenue_churn_denominator, 0)
            as decimal(18, 2)
        ) as trailing_12m_gross_revenue_churn_denominator
    from aggregated
    left join spend_by_month
        on aggregated.month = spend_by_month.month
    left join expenses_by_month
        on aggregated.month = expenses_by_month.month
    left join mrr_months
        on
            aggregated.month = mrr_months.month
            and aggregated.segment = mrr_months.segment
    left join trailing_churn
        on
            aggregated.month = trailing_churn.month
            and aggregated.segment = trailing_churn.segment
    left join cost_inputs
        on aggregated.month = cost_inputs.month_start_date

),

bases as (

    -- Which basis each cost metric can be computed on this month: its sources delivered
    -- through the month's end and the month closed. Never a fallback to another basis.
    select
        *,
        is_month_closed and is_ad_spend_complete and is_billing_complete as is_paid_cac_complete,
        is_month_closed
        and is_ad_spend_complete
        and is_expenses_complete
        and is_billing_complete as is_fully_loaded_cac_complete,
        is_month_closed
        and is_ad_spend_complete
        and is_expenses_complete
        and is_crm_complete
        and is_billing_complete as is_complete
    from costed

),

lagged as (

    -- Lagged CAC: the spend of the previous {{ lag }} month(s) (setting cac_lag_months), each
    -- of them complete on the basis, over this month's new customers.
    select
        *,
        sum(ad_spend) over (
            partition by segment order by month
            rows between {{ lag }} preceding and 1 preceding
        ) as lagged_ad_spend,
        sum(case when is_month_closed and is_ad_spend_complete then 1 else 0 end) over (
            partition by segment order by month
            rows between {{ lag }} preceding and 1 preceding
        ) as lagged_paid_months,
        sum(ad_spend + sales_marketing_expenses) over (
            partition by segment order by month
            rows between {{ lag }} preceding and 1 preceding
        ) as lagged_fully_loaded_cost,
        sum(
            case
                when is_month_closed and is_ad_spend_complete and is_expenses_complete then 1
                else 0
            end
        ) over (
            partition by segment order by month
            rows between {{ lag }} preceding and 1 preceding
        ) as lagged_fully_loaded_months
    from bases

),

ratios as (

    select
        *,
        opportunities_won + opportunities_lost as close_rate_denominator,
        case
            when is_paid_cac_complete then ad_spend
        end as cac_paid_numerator,
        case
            when is_paid_cac_complete and ad_spend is not null then new_customers
        end as cac_paid_denominator,
        case
            when is_fully_loaded_cac_complete
                then cast(ad_spend + sales_marketing_expenses as decimal(18, 2))
        end as cac_fully_loaded_numerator,
        case
            when is_fully_loaded_cac_complete and ad_spend is not null then new_customers
        end as cac_fully_loaded_denominator,
        case
            when lagged_paid_months = {{ lag }} and is_month_closed and is_billing_complete
                then cast(lagged_ad_spend as decimal(18, 2))
        end as cac_paid_lagged_numerator,
        case
            when
                lagged_fully_loaded_months = {{ lag }}
                and is_month_closed
                and is_billing_complete
                then cast(lagged_fully_loaded_cost as decimal(18, 2))
        end as cac_fully_loaded_lagged_numerator,
        case
            when is_month_closed and is_ad_spend_complete and is_crm_complete then ad_spend
        end as paid_cost_per_lead_numerator,
        case
            when is_month_closed and is_expenses_complete and is_crm_complete
                then event_expenses
        end as event_cost_per_lead_numerator,
        case
            when
                is_month_closed
                and is_ad_spend_complete
                and is_expenses_complete
                and is_crm_complete
                then cast(ad_spend + marketing_program_expenses as decimal(18, 2))
        end as blended_cost_per_lead_numerator,
        {{ ratio('mrr', 'customers') }} as arpa,
        {{ ratio(
            'trailing_12m_gross_revenue_churn_numerator',
            'trailing_12m_gross_revenue_churn_denominator'
        ) }} as trailing_12m_gross_revenue_churn_rate
    from lagged

),

lifetimes as (

    select
        *,
        -- 1 / churn, or the cap when churn is 0 or 1 / churn exceeds it (cltv_capped says so)
        case
            when trailing_12m_gross_revenue_churn_rate is null then null
            when trailing_12m_gross_revenue_churn_rate * {{ cap }} <= 1
                then cast({{ cap }} as double)
            else 1.0 / trailing_12m_gross_revenue_churn_rate
        end as customer_lifetime_months,
        trailing_12m_gross_revenue_churn_rate * {{ cap }} <= 1 as cltv_capped,
        {{ ratio('cac_paid_numerator', 'cac_paid_denominator') }} as cac_paid,
        {{ ratio('cac_fully_loaded_numerator', 'cac_fully_loaded_denominator') }}
            as cac_fully_loaded,
        {{ ratio('cac_paid_lagged_numerator', 'new_customers') }} as cac_paid_lagged,
        {{ ratio('cac_fully_loaded_lagged_numerator', 'new_customers') }}
            as cac_fully_loaded_lagged
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
        won_amount as new_business_bookings,
        won_with_amount,
        won_without_amount,
        won_unconverted,
        {{ ratio('won_amount', 'won_with_amount') }} as avg_deal_size,
        opportunities_won as close_rate_numerator,
        close_rate_denominator,
        {{ ratio('opportunities_won', 'close_rate_denominator') }} as close_rate,
        {{ ratio('opportunities_won', 'opportunities_lost') }} as win_loss_ratio,
        sales_cycle_days,
        {{ ratio('sales_cycle_days', 'opportunities_won') }} as avg_sales_cycle_days,
        time_to_close_days,
        time_to_close_leads,
        {{ ratio('time_to_close_days', 'time_to_close_leads') }} as avg_time_to_close_days,
        cohort_leads,
        cohort_reached_mql,
        cohort_reached_sql,
        cohort_reached_opportunity,
        cohort_reached_won,
        {{ ratio('cohort_reached_mql', 'cohort_leads') }} as pct_leads_to_mql,
        {{ ratio('cohort_reached_sql', 'cohort_leads') }} as pct_leads_to_sql,
        {{ ratio('cohort_reached_opportunity', 'cohort_leads') }} as pct_leads_to_opportunity,
        {{ ratio('cohort_reached_won', 'cohort_leads') }} as pct_leads_to_won,
        ad_spend,
        ad_spend_unconverted,
        paid_leads,
        event_leads,
        paid_cost_per_lead_numerator,
        {{ ratio('paid_cost_per_lead_numerator', 'paid_leads') }} as cost_per_paid_lead,
        event_cost_per_lead_numerator,
        {{ ratio('event_cost_per_lead_numerator', 'event_leads') }} as cost_per_event_lead,
        blended_cost_per_lead_numerator,
        {{ ratio('blended_cost_per_lead_numerator', 'leads') }} as cost_per_lead_blended,
        sales_marketing_expenses,
        marketing_program_expenses,
        event_expenses,
        expenses_unconverted,
        new_customers,
        cac_paid_numerator,
        cac_paid_denominator,
        cac_paid,
        cac_fully_loaded_numerator,
        cac_fully_loaded_denominator,
        cac_fully_loaded,
        cast({{ lag }} as integer) as cac_lag_months,
        cac_paid_lagged_numerator,
        cac_paid_lagged,
        cac_fully_loaded_lagged_numerator,
        cac_fully_loaded_lagged,
        mrr as arpa_numerator,
        customers as arpa_denominator,
        arpa,
        trailing_12m_gross_revenue_churn_numerator,
        trailing_12m_gross_revenue_churn_denominator,
        trailing_12m_gross_revenue_churn_rate,
        customer_lifetime_months,
        arpa * {{ margin }} * customer_lifetime_months as cltv,
        cltv_capped,
        -- one stated basis: fully loaded CAC, null (never paid-only) when it is incomplete
        case
            when cac_fully_loaded > 0
                then arpa * {{ margin }} * customer_lifetime_months / cac_fully_loaded
        end as ltv_to_cac,
        case
            when arpa > 0 then cac_fully_loaded / (arpa * {{ margin }})
        end as cac_payback_months,
        is_month_closed,
        is_ad_spend_complete,
        is_expenses_complete,
        is_crm_complete,
        is_billing_complete,
        is_complete,
        month
    from lifetimes

)

select * from final
