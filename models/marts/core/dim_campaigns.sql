-- One row per CRM campaign (deleted ones excluded): type, status, dates, budget and cost, and
-- the ad platform campaign it mirrors (paid campaigns share the platform campaign's name).
with

campaigns as (

    select
        campaign_id,
        campaign_name,
        campaign_type,
        campaign_status,
        budgeted_cost_usd,
        actual_cost_usd,
        start_date,
        end_date
    from {{ ref('int_crm_campaigns_unioned') }}
    where not is_deleted

),

platform_campaigns as (

    select distinct
        ad_platform,
        campaign_id as platform_campaign_id,
        campaign_name
    from {{ ref('int_ad_spend_unioned') }}

),

final as (

    select
        campaigns.campaign_id,
        platform_campaigns.platform_campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_type,
        campaigns.campaign_status,
        platform_campaigns.ad_platform,
        campaigns.budgeted_cost_usd,
        campaigns.actual_cost_usd,
        campaigns.start_date,
        campaigns.end_date
    from campaigns
    left join platform_campaigns
        on campaigns.campaign_name = platform_campaigns.campaign_name

)

select * from final
