-- One row per Salesforce campaign member: the latest version of each delivered member,
-- deletes flagged.
--
-- Incremental on DuckDB: the latest version of each key is merged in from the rows loaded
-- since the last run (macros/staging/incremental_staging.sql).
{{ config(**latest_version_config('campaign_member_id')) }}

with

source as (

    select
        Id,
        CampaignId,
        LeadId,
        ContactId,
        Status,
        HasResponded,
        IsDeleted,
        FirstRespondedDate,
        CreatedDate,
        LastModifiedDate,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('salesforce', 'campaignmember') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        Id as campaign_member_id,
        CampaignId as campaign_id,
        LeadId as lead_id,
        ContactId as contact_id,
        Status as member_status,
        {{ try_cast('lower(trim(HasResponded))', 'boolean') }} as has_responded,
        {{ try_cast('lower(trim(IsDeleted))', 'boolean') }} as is_deleted,
        {{ try_cast('FirstRespondedDate', 'date') }} as first_responded_date,
        {{ parse_utc_timestamp('CreatedDate') }} as created_at,
        {{ parse_utc_timestamp('LastModifiedDate') }} as last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

candidates as (

    {{ with_current_versions('renamed', 'campaign_member_id') }}

),

ranked as (

    select
        *,
        {{ latest_version_rank('campaign_member_id', 'last_modified_at') }} as version_rank
    from candidates

),

final as (

    select
        campaign_member_id,
        campaign_id,
        lead_id,
        contact_id,
        member_status,
        has_responded,
        is_deleted,
        first_responded_date,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
