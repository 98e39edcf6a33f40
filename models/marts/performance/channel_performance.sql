-- One row per month x channel x CRM campaign (campaign_id null = no campaign: leads, which the
-- funnel attributes to a channel only, unmatched spend and touches without a campaign). Every
-- month of the spine up to the last month with activity appears for every combination seen.
-- Spend, leads, MQLs and SQLs by event month; attributed pipeline and won amount per
-- attribution model by opportunity-created month; cost per stage and ROI with their parts.
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

),

final as (

    select
        campaign_id,
        channel,
        '{{ setting("reporting_currency") }}' as reporting_currency,
        cast(spend_reporting as decimal(18, 2)) as spend_reporting,
        cast(spend_unconverted as bigint) as spend_unconverted,
        cast(leads as bigint) as leads,
        cast(mqls as bigint) as mqls,
        cast(sqls as bigint) as sqls,
        -- cost per stage = spend / count (null when the count is 0)
        cast(spend_reporting as double) / nullif(leads, 0) as cost_per_lead,
        cast(spend_reporting as double) / nullif(mqls, 0) as cost_per_mql,
        cast(spend_reporting as double) / nullif(sqls, 0) as cost_per_sql,
        -- ROI per model = (attributed won - spend) / spend (null when spend is 0)
        cast(round(pipeline_first_touch, 2) as decimal(18, 2)) as attributed_pipeline_first_touch,
        cast(round(won_first_touch, 2) as decimal(18, 2)) as attributed_won_first_touch,
        cast(round(won_first_touch, 2) - spend_reporting as double)
        / nullif(spend_reporting, 0) as roi_first_touch,
        cast(round(pipeline_last_touch, 2) as decimal(18, 2)) as attributed_pipeline_last_touch,
        cast(round(won_last_touch, 2) as decimal(18, 2)) as attributed_won_last_touch,
        cast(round(won_last_touch, 2) - spend_reporting as double)
        / nullif(spend_reporting, 0) as roi_last_touch,
        cast(round(pipeline_linear, 2) as decimal(18, 2)) as attributed_pipeline_linear,
        cast(round(won_linear, 2) as decimal(18, 2)) as attributed_won_linear,
        cast(round(won_linear, 2) - spend_reporting as double)
        / nullif(spend_reporting, 0) as roi_linear,
        cast(round(pipeline_w_shaped, 2) as decimal(18, 2)) as attributed_pipeline_w_shaped,
        cast(round(won_w_shaped, 2) as decimal(18, 2)) as attributed_won_w_shaped,
        cast(round(won_w_shaped, 2) - spend_reporting as double)
        / nullif(spend_reporting, 0) as roi_w_shaped,
        month_start_date
    from joined

)

select * from final
