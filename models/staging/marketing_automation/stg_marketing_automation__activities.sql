-- One row per marketing touch (append-only; re-sent rows removed).
--
-- Incremental (the largest event table): a run reads only raw rows loaded after the newest
-- `_loaded_at` already here and appends the touches not yet here. Touches are never updated
-- and the first loaded copy is kept, so this equals a full rebuild (`--full-refresh` does one;
-- needed after rows were removed from the raw table, e.g. with `forget_file`).
{{ config(**append_only_config()) }}

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
    {{ loaded_since_last_run() }}

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

    -- Rows are never updated: a re-sent row is a duplicate, so the first loaded copy stays
    -- (the earliest delivery among copies loaded together).
    select
        *,
        {{ first_loaded_copy_rank('activity_id') }} as copy_rank
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
    where
        copy_rank = 1
        and {{ not_already_loaded('ranked', 'activity_id') }}

)

select * from final
