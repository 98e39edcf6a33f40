-- One row per ad platform x campaign x day: the three platforms' reports in one shape (the
-- latest delivered figures), spend still in each account's currency.
with

google_ads as (

    select
        ad_platform,
        campaign_id,
        campaign_name,
        currency,
        spend,
        impressions,
        clicks,
        report_date
    from {{ ref('stg_google_ads__campaign_stats') }}

),

linkedin_ads as (

    select
        ad_platform,
        campaign_id,
        campaign_name,
        currency,
        spend,
        impressions,
        clicks,
        report_date
    from {{ ref('stg_linkedin_ads__campaign_stats') }}

),

meta_ads as (

    select
        ad_platform,
        campaign_id,
        campaign_name,
        currency,
        spend,
        impressions,
        clicks,
        report_date
    from {{ ref('stg_meta_ads__campaign_stats') }}

),

final as (

    select * from google_ads
    union all
    select * from linkedin_ads
    union all
    select * from meta_ads

)

select * from final
