-- One row per Meta Ads campaign per day: the figures of the latest delivery (platforms
-- restate the previous days).
with

source as (

    select
        date_start,
        date_stop,
        campaign_id,
        campaign_name,
        account_currency,
        spend,
        impressions,
        clicks,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('meta_ads', 'ads_insights') }}

),

renamed as (

    select
        trim(campaign_id) as campaign_id,
        'meta_ads' as ad_platform,
        campaign_name,
        upper(trim(account_currency)) as currency,
        {{ try_cast('spend', 'decimal(18, 6)') }} as spend,
        {{ try_cast('impressions', 'bigint') }} as impressions,
        {{ try_cast('clicks', 'bigint') }} as clicks,
        {{ try_cast('date_start', 'date') }} as report_date,
        {{ try_cast('date_stop', 'date') }} as report_end_date,
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
        report_end_date,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
