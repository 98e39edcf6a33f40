-- One row per Google Ads campaign per day: the figures of the latest delivery (platforms
-- restate the previous days).
with

source as (

    select
        {{ adapter.quote('segments.date') }} as segments_date,
        {{ adapter.quote('campaign.id') }} as campaign_id,
        {{ adapter.quote('campaign.name') }} as campaign_name,
        {{ adapter.quote('customer.currency_code') }} as currency_code,
        {{ adapter.quote('metrics.cost_micros') }} as cost_micros,
        {{ adapter.quote('metrics.impressions') }} as impressions,
        {{ adapter.quote('metrics.clicks') }} as clicks,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('google_ads', 'campaign_stats') }}

),

renamed as (

    select
        trim(campaign_id) as campaign_id,
        'google_ads' as ad_platform,
        campaign_name,
        upper(trim(currency_code)) as currency,
        -- Cost arrives in millionths of the account currency.
        {{ minor_units_to_decimal('cost_micros', 6, scale=6) }} as spend,
        {{ try_cast('impressions', 'bigint') }} as impressions,
        {{ try_cast('clicks', 'bigint') }} as clicks,
        {{ try_cast('segments_date', 'date') }} as report_date,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank(['report_date', 'campaign_id']) }} as delivery_rank
    from renamed

),

final as (

    select
        {{ surrogate_key(["ad_platform", "report_date", "campaign_id"]) }} as campaign_stat_id,
        campaign_id,
        ad_platform,
        campaign_name,
        currency,
        spend,
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
