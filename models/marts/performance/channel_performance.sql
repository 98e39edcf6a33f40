-- One row per month x channel x CRM campaign (campaign_id null = no campaign: leads, which the
-- funnel attributes to a channel only, unmatched spend and touches without a campaign). Every
-- month of the spine up to the last month with activity appears for every combination seen.
-- Spend, leads, MQLs and SQLs by event month; attributed pipeline and won amount per
-- attribution model by opportunity-created month. Cost = ad spend, plus the month's `events`
-- expenses on the event channel's no-campaign row (setting event_channel): events cost money
-- that is in expenses, not in ad platforms. Cost per stage and ROAS (attributed won / cost)
-- are null unless the month is complete (closed, spend, expenses and CRM delivered).
{%- set event_channel = setting('event_channel') %}
with

months as (

    select month_start_date from {{ ref('util_months') }}

),

spend as (

    select
        crm_campaign_id,
        channel,
        spend,
        spend_reporting,
        report_date
    from {{ ref('fct_ad_spend_daily') }}

),

leads as (

    select
        channel,
        created_at,
        mql_at,
        sql_at
    from {{ ref('fct_lead_funnel') }}

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

cost_inputs as (

    select
        month_start_date,
        is_month_closed
        and is_ad_spend_complete
        and is_expenses_complete
        and is_crm_complete as is_complete
    from {{ ref('int_cost_inputs_delivered') }}

),

attribution as (

    select
        campaign_id,
        attribution_model,
        channel,
        pipeline_amount_credited,
        won_amount_credited,
        opportunity_created_at
    from {{ ref('fct_attribution') }}

),

spend_by_month as (

    select
        channel,
        crm_campaign_id as campaign_id,
        cast({{ dbt.date_trunc("month", "report_date") }} as date) as month_start_date,
        sum(spend_reporting) as spend_reporting,
        -- spend rows without a usable FX rate: left out of spend_reporting, counted
        sum(
            case when spend is not null and spend_reporting is null then 1 else 0 end
        ) as spend_unconverted
    from spend
    group by
        channel,
        crm_campaign_id,
        cast({{ dbt.date_trunc("month", "report_date") }} as date)

),

expenses_by_month as (

    -- the event channel's cost: marketing `events` expenses, on its no-campaign row
    select
        '{{ event_channel }}' as channel,
        cast(null as string) as campaign_id,
        expenses.month_start_date,
        sum(expenses.amount_reporting) as expenses_reporting,
        -- rows without a usable rate: left out of the cost above, counted, never 0 in silence
        sum(case when expenses.is_unconverted then 1 else 0 end) as expenses_unconverted
    from expenses
    where expenses.department = 'marketing' and expenses.expense_category = 'events'
    group by expenses.month_start_date

),

lead_events as (

    select
        channel,
        cast({{ dbt.date_trunc("month", "created_at") }} as date) as month_start_date,
        1 as is_lead,
        0 as is_mql,
        0 as is_sql
    from leads
    union all
    select
        channel,
        cast({{ dbt.date_trunc("month", "mql_at") }} as date) as month_start_date,
        0 as is_lead,
        1 as is_mql,
        0 as is_sql
    from leads
    where mql_at is not null
    union all
    select
        channel,
        cast({{ dbt.date_trunc("month", "sql_at") }} as date) as month_start_date,
        0 as is_lead,
        0 as is_mql,
        1 as is_sql
    from leads
    where sql_at is not null

),

leads_by_month as (

    select
        channel,
        cast(null as string) as campaign_id,
        month_start_date,
        sum(is_lead) as leads,
        sum(is_mql) as mqls,
        sum(is_sql) as sqls
    from lead_events
    group by
        channel,
        month_start_date

),

attribution_by_month as (

    select
        channel,
        campaign_id,
        cast({{ dbt.date_trunc("month", "opportunity_created_at") }} as date)
            as month_start_date,
        sum(case when attribution_model = 'first_touch' then pipeline_amount_credited end)
            as pipeline_first_touch,
        sum(case when attribution_model = 'first_touch' then won_amount_credited end)
            as won_first_touch,
        sum(case when attribution_model = 'last_touch' then pipeline_amount_credited end)
            as pipeline_last_touch,
        sum(case when attribution_model = 'last_touch' then won_amount_credited end)
            as won_last_touch,
        sum(case when attribution_model = 'linear' then pipeline_amount_credited end)
            as pipeline_linear,
        sum(case when attribution_model = 'linear' then won_amount_credited end)
            as won_linear,
        sum(case when attribution_model = 'w_shaped' then pipeline_amount_credited end)
            as pipeline_w_shaped,
        sum(case when attribution_model = 'w_shaped' then won_amount_credited end)
            as won_w_shaped
    from attribution
    group by
        channel,
        campaign_id,
        cast({{ dbt.date_trunc("month", "opportunity_created_at") }} as date)

),

activity as (

    select
        channel,
        campaign_id,
        month_start_date
    from spend_by_month
    union all
    select
        channel,
        campaign_id,
        month_start_date
    from leads_by_month
    union all
    select
        channel,
        campaign_id,
        month_start_date
    from attribution_by_month
    union all
    select
        channel,
        campaign_id,
        month_start_date
    from expenses_by_month

),

combinations as (

    select distinct
        channel,
        campaign_id,
        coalesce(campaign_id, '') as campaign_key
    from activity

),

last_month as (

    select max(month_start_date) as month_start_date from activity

),

spine as (

    select
        months.month_start_date,
        combinations.channel,
        combinations.campaign_id,
        combinations.campaign_key
    from months
    inner join last_month
        on months.month_start_date <= last_month.month_start_date
    cross join combinations

),

joined as (

    select
        spine.month_start_date,
        spine.channel,
        spine.campaign_id,
        coalesce(spend_by_month.spend_reporting, 0) as spend_reporting,
        coalesce(spend_by_month.spend_unconverted, 0) as spend_unconverted,
        coalesce(expenses_by_month.expenses_reporting, 0) as expenses_reporting,
        coalesce(expenses_by_month.expenses_unconverted, 0) as expenses_unconverted,
        coalesce(cost_inputs.is_complete, false) as is_complete,
        coalesce(leads_by_month.leads, 0) as leads,
        coalesce(leads_by_month.mqls, 0) as mqls,
        coalesce(leads_by_month.sqls, 0) as sqls,
        coalesce(attribution_by_month.pipeline_first_touch, 0) as pipeline_first_touch,
        coalesce(attribution_by_month.won_first_touch, 0) as won_first_touch,
        coalesce(attribution_by_month.pipeline_last_touch, 0) as pipeline_last_touch,
        coalesce(attribution_by_month.won_last_touch, 0) as won_last_touch,
        coalesce(attribution_by_month.pipeline_linear, 0) as pipeline_linear,
        coalesce(attribution_by_month.won_linear, 0) as won_linear,
        coalesce(attribution_by_month.pipeline_w_shaped, 0) as pipeline_w_shaped,
        coalesce(attribution_by_month.won_w_shaped, 0) as won_w_shaped
    from spine
    left join spend_by_month
        on
            spine.month_start_date = spend_by_month.month_start_date
            and spine.channel = spend_by_month.channel
            and spine.campaign_key = coalesce(spend_by_month.campaign_id, '')
    left join leads_by_month
        on
            spine.month_start_date = leads_by_month.month_start_date
            and spine.channel = leads_by_month.channel
            and spine.campaign_key = coalesce(leads_by_month.campaign_id, '')
    left join attribution_by_month
        on
            spine.month_start_date = attribution_by_month.month_start_date
            and spine.channel = attribution_by_month.channel
            and spine.campaign_key = coalesce(attribution_by_month.campaign_id, '')
    left join expenses_by_month
        on
            spine.month_start_date = expenses_by_month.month_start_date
            and spine.channel = expenses_by_month.channel
            and spine.campaign_key = ''
    left join cost_inputs
        on spine.month_start_date = cost_inputs.month_start_date

),

costed as (

    select
        *,
        spend_reporting + expenses_reporting as cost_reporting,
        case when is_complete then spend_reporting + expenses_reporting end as complete_cost
    from joined

),

final as (

    select
        campaign_id,
        channel,
        '{{ setting("reporting_currency") }}' as reporting_currency,
        cast(spend_reporting as decimal(18, 2)) as spend_reporting,
        cast(spend_unconverted as bigint) as spend_unconverted,
        cast(expenses_reporting as decimal(18, 2)) as expenses_reporting,
        cast(expenses_unconverted as bigint) as expenses_unconverted,
        cast(cost_reporting as decimal(18, 2)) as cost_reporting,
        cast(leads as bigint) as leads,
        cast(mqls as bigint) as mqls,
        cast(sqls as bigint) as sqls,
        -- cost per stage = cost / count: null when the count is 0 or the month incomplete
        {{ ratio('complete_cost', 'leads') }} as cost_per_lead,
        {{ ratio('complete_cost', 'mqls') }} as cost_per_mql,
        {{ ratio('complete_cost', 'sqls') }} as cost_per_sql,
        {%- for model in ['first_touch', 'last_touch', 'linear', 'w_shaped'] %}
        cast(round(pipeline_{{ model }}, 2) as decimal(18, 2))
            as attributed_pipeline_{{ model }},
        cast(round(won_{{ model }}, 2) as decimal(18, 2)) as attributed_won_{{ model }},
        -- ROAS: attributed won / the channel's cost (no gross margin, no minus one)
        {{ ratio('round(won_' ~ model ~ ', 2)', 'complete_cost') }} as roas_{{ model }},
        {%- endfor %}
        is_complete,
        month_start_date
    from costed

)

select * from final
