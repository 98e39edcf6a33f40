-- One row per Salesforce contact: the latest version of each delivered contact, deletes
-- flagged.
--
-- Incremental on DuckDB: the latest version of each key is merged in from the rows loaded
-- since the last run (macros/staging/incremental_staging.sql).
{{ config(**latest_version_config('contact_id')) }}

with

source as (

    select
        Id,
        AccountId,
        OwnerId,
        FirstName,
        LastName,
        Email,
        Title,
        LeadSource,
        IsDeleted,
        CreatedDate,
        LastModifiedDate,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('salesforce', 'contact') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        Id as contact_id,
        AccountId as account_id,
        OwnerId as owner_id,
        {{ salesforce_owner_type('OwnerId') }} as owner_type,
        FirstName as first_name,
        LastName as last_name,
        {{ normalize_email('Email') }} as email,
        {{ email_domain('Email') }} as email_domain,
        Title as title,
        LeadSource as lead_source,
        {{ try_cast('lower(trim(IsDeleted))', 'boolean') }} as is_deleted,
        {{ parse_utc_timestamp('CreatedDate') }} as created_at,
        {{ parse_utc_timestamp('LastModifiedDate') }} as last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

candidates as (

    {{ with_current_versions('renamed', 'contact_id') }}

),

ranked as (

    select
        *,
        {{ latest_version_rank('contact_id', 'last_modified_at') }} as version_rank
    from candidates

),

final as (

    select
        contact_id,
        account_id,
        owner_id,
        owner_type,
        first_name,
        last_name,
        email,
        email_domain,
        title,
        lead_source,
        is_deleted,
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
