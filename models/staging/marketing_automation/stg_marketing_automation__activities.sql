-- One row per marketing touch (append-only; re-sent rows removed).
with

source as (

    select
        activity_id,
        campaign_id,
        email,
        activity_type,
        utm_source,
        utm_medium,
        utm_campaign,
        landing_page,
        activity_timestamp,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('marketing_automation', 'activities') }}

),

renamed as (

    select
        activity_id,
        campaign_id,
        {{ normalize_email('email') }} as email,
        {{ email_domain('email') }} as email_domain,
        activity_type,
        utm_source,
        utm_medium,
        utm_campaign,
        landing_page,
        {{ parse_utc_timestamp('activity_timestamp') }} as activity_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    -- Rows are never updated: a re-sent row is a duplicate, so the first delivered copy stays.
    select
        *,
        row_number() over (
            partition by activity_id
            order by
                _delivery_date asc,
                _file_path asc,
                _row_number asc,
                _loaded_at asc
        ) as copy_rank
    from renamed

),

final as (

    select
        activity_id,
        campaign_id,
        email,
        email_domain,
        activity_type,
        utm_source,
        utm_medium,
        utm_campaign,
        landing_page,
        activity_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where copy_rank = 1

)

select * from final
