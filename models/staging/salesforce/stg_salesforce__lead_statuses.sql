-- One row per Salesforce lead status (LeadStatus metadata export, optional): the latest
-- delivered version of each status. Empty when the org never delivered the export.
with

source as (

    select
        Id,
        MasterLabel,
        ApiName,
        SortOrder,
        IsDefault,
        IsConverted,
        CreatedDate,
        LastModifiedDate,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('salesforce', 'leadstatus') }}

),

renamed as (

    select
        Id as lead_status_id,
        -- Lead.Status holds the API name (the label unless the status was renamed).
        coalesce(nullif(trim(ApiName), ''), MasterLabel) as lead_status,
        MasterLabel as status_label,
        {{ try_cast('SortOrder', 'bigint') }} as sort_order,
        {{ try_cast('lower(trim(IsDefault))', 'boolean') }} as is_default,
        {{ try_cast('lower(trim(IsConverted))', 'boolean') }} as is_converted,
        {{ parse_utc_timestamp('CreatedDate') }} as created_at,
        {{ parse_utc_timestamp('LastModifiedDate') }} as last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    -- The row in the latest delivery wins, then the later LastModifiedDate.
    select
        *,
        {{ latest_version_rank(
            'lead_status_id', 'last_modified_at', delivery_first=true
        ) }} as version_rank
    from renamed

),

final as (

    select
        lead_status_id,
        lead_status,
        status_label,
        sort_order,
        is_default,
        is_converted,
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
