-- One row per Salesforce lead: the latest version of each delivered lead, deletes flagged.
--
-- Incremental on DuckDB: the latest version of each key is merged in from the rows loaded
-- since the last run (macros/staging/incremental_staging.sql).
{{ config(**latest_version_config('lead_id')) }}

with

source as (

    select
        Id,
        OwnerId,
        ConvertedAccountId,
        ConvertedContactId,
        ConvertedOpportunityId,
        FirstName,
        LastName,
        Email,
        Company,
        Title,
        LeadSource,
        Status,
        Country,
        Industry,
        NumberOfEmployees,
        IsConverted,
        IsDeleted,
        ConvertedDate,
        CreatedDate,
        LastModifiedDate,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('salesforce', 'lead') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        Id as lead_id,
        OwnerId as owner_id,
        {{ salesforce_owner_type('OwnerId') }} as owner_type,
        ConvertedAccountId as converted_account_id,
        ConvertedContactId as converted_contact_id,
        ConvertedOpportunityId as converted_opportunity_id,
        FirstName as first_name,
        LastName as last_name,
        {{ normalize_email('Email') }} as email,
        {{ email_domain('Email') }} as email_domain,
        Company as company,
        Title as title,
        LeadSource as lead_source,
        Status as lead_status,
        Country as country,
        Industry as industry,
        {{ try_cast('NumberOfEmployees', 'bigint') }} as number_of_employees,
        {{ try_cast('lower(trim(IsConverted))', 'boolean') }} as is_converted,
        {{ try_cast('lower(trim(IsDeleted))', 'boolean') }} as is_deleted,
        {{ try_cast('ConvertedDate', 'date') }} as converted_date,
        {{ parse_utc_timestamp('CreatedDate') }} as created_at,
        {{ parse_utc_timestamp('LastModifiedDate') }} as last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

candidates as (

    {{ with_current_versions('renamed', 'lead_id') }}

),

ranked as (

    select
        *,
        {{ latest_version_rank('lead_id', 'last_modified_at') }} as version_rank
    from candidates

),

final as (

    select
        lead_id,
        owner_id,
        owner_type,
        converted_account_id,
        converted_contact_id,
        converted_opportunity_id,
        first_name,
        last_name,
        email,
        email_domain,
        company,
        title,
        lead_source,
        lead_status,
        country,
        industry,
        number_of_employees,
        is_converted,
        is_deleted,
        converted_date,
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
