-- One row per Salesforce user: the latest version of each delivered user.
with

source as (

    select
        Id,
        ManagerId,
        Name,
        Email,
        Department,
        Title,
        Segment__c,
        IsActive,
        CreatedDate,
        LastModifiedDate,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('salesforce', 'user') }}

),

renamed as (

    select
        Id as user_id,
        ManagerId as manager_id,
        Name as user_name,
        {{ normalize_email('Email') }} as email,
        {{ email_domain('Email') }} as email_domain,
        Department as department,
        Title as title,
        Segment__c as segment,
        {{ try_cast('lower(trim(IsActive))', 'boolean') }} as is_active,
        {{ parse_utc_timestamp('CreatedDate') }} as created_at,
        {{ parse_utc_timestamp('LastModifiedDate') }} as last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('user_id', 'last_modified_at') }} as version_rank
    from renamed

),

final as (

    select
        user_id,
        manager_id,
        user_name,
        email,
        email_domain,
        department,
        title,
        segment,
        is_active,
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
