-- One row per HubSpot deal pipeline: the version in the latest daily snapshot (a small
-- object, rebuilt every run).
{{ config(materialized='table') }}

with

source as (

    select
        id,
        label,
        displayOrder,
        createdAt,
        updatedAt,
        archived,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('hubspot', 'deal_pipelines') }}

),

renamed as (

    select
        trim(id) as pipeline_id,
        nullif(trim(label), '') as pipeline_label,
        {{ try_cast('displayOrder', 'bigint') }} as display_order,
        coalesce({{ try_cast('lower(trim(archived))', 'boolean') }}, false) as is_archived,
        {{ parse_utc_timestamp('createdAt') }} as created_at,
        {{ parse_utc_timestamp('updatedAt') }} as last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    -- a full snapshot: the latest delivery is the current list
    select
        *,
        {{ latest_version_rank('pipeline_id', 'last_modified_at', delivery_first=true) }}
            as version_rank
    from renamed

),

final as (

    select
        pipeline_id,
        pipeline_label,
        display_order,
        is_archived,
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
