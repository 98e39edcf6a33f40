-- One row per LinkedIn Ads campaign per day: the figures of the latest delivery (platforms
-- restate the previous days).
with

source as (

    select
        {{ adapter.quote('date') }} as report_date_text,
        campaign_urn,
        campaign_name,
        currency,
        costInLocalCurrency as cost_in_local_currency,
        costInUsd as cost_in_usd,
        impressions,
        clicks,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('linkedin_ads', 'ad_analytics') }}

),

renamed as (

    select
        -- `urn:li:sponsoredCampaign:<id>`: the id is the text after the last colon.
        {{ dbt.split_part('trim(campaign_urn)', "':'", 4) }} as campaign_id,
        trim(campaign_urn) as campaign_urn,
        'linkedin_ads' as ad_platform,
        campaign_name,
        upper(trim(currency)) as currency,
        {{ try_cast('cost_in_local_currency', 'decimal(18, 6)') }} as spend,
        {{ try_cast('cost_in_usd', 'decimal(18, 6)') }} as spend_usd,
        {{ try_cast('impressions', 'bigint') }} as impressions,
        {{ try_cast('clicks', 'bigint') }} as clicks,
        {{ try_cast('report_date_text', 'date') }} as report_date,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank(['report_date', 'campaign_urn']) }} as delivery_rank
    from renamed

),

final as (

    select
        {{ surrogate_key(["ad_platform", "report_date", "campaign_urn"]) }} as campaign_stat_id,
        campaign_id,
        campaign_urn,
        ad_platform,
        campaign_name,
        currency,
        spend,
        spend_usd,
        impressions,
        clicks,
        report_date,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
