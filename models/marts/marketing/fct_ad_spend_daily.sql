-- One row per ad platform x campaign x day: spend in the account currency and in the
-- reporting currency (that day's FX rate, rounded to the cent), impressions and clicks, with
-- the marketing channel and the CRM campaign of the same name.
with

spend as (

    select * from {{ ref('int_ad_spend_unioned') }}

),

fx as (

    select
        currency,
        calendar_date,
        rate_to_reporting
    from {{ ref('int_fx_rates_daily') }}

),

platform_channels as (

    select distinct
        source_map.ad_platform,
        source_map.channel
    from {{ org_mapping('lead_source_channels') }} as source_map
    where source_map.ad_platform is not null

),

crm_campaigns as (

    select
        campaign_id as crm_campaign_id,
        campaign_name
    from {{ ref('int_crm_campaigns_unioned') }}
    where not is_deleted

),

final as (

    select
        {{ surrogate_key(["spend.ad_platform", "spend.campaign_id", "spend.report_date"]) }}
            as ad_spend_id,
        spend.ad_platform,
        spend.campaign_id,
        crm_campaigns.crm_campaign_id,
        spend.campaign_name,
        coalesce(platform_channels.channel, 'other') as channel,
        spend.currency,
        '{{ setting("reporting_currency") }}' as reporting_currency,
        cast(spend.spend as decimal(18, 2)) as spend,
        cast(round(spend.spend * fx.rate_to_reporting, 2) as decimal(18, 2)) as spend_reporting,
        spend.impressions,
        spend.clicks,
        spend.report_date
    from spend
    left join fx
        on
            spend.currency = fx.currency
            and spend.report_date = fx.calendar_date
    left join platform_channels
        on spend.ad_platform = platform_channels.ad_platform
    left join crm_campaigns
        on spend.campaign_name = crm_campaigns.campaign_name

)

select * from final
