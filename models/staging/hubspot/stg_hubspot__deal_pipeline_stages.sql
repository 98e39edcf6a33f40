-- One row per stage of a HubSpot deal pipeline, from the pipeline's version in the latest
-- daily snapshot. A stage id is unique within its pipeline only, so the key is
-- `<pipeline_id>:<stage_id>`. `probability` is HubSpot's 0..1 text; `is_closed` its
-- `"true"` / `"false"` text.
{{ config(materialized='table') }}

with

source as (

    select
        id,
        stages,
        updatedAt,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('hubspot', 'deal_pipelines') }}

),

latest_pipelines as (

    select *
    from (
        select
            trim(id) as pipeline_id,
            stages,
            _delivery_date,
            _file_path,
            _row_number,
            _loaded_at,
            {{ latest_version_rank(
                'trim(id)', hubspot_timestamp('updatedAt'), delivery_first=true
            ) }} as version_rank
        from source
    ) as ranked_pipelines
    where version_rank = 1

),

stages as (

    select
        pipeline_id,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at,
        {{ json_array_elements('stages', 'stage_index', 'stage_json') }}
    from latest_pipelines

),

renamed as (

    select
        nullif(trim({{ json_extract_text('stage_json', '$.id') }}), '') as stage_id,
        pipeline_id,
        nullif(trim({{ json_extract_text('stage_json', '$.label') }}), '') as stage_label,
        {{ try_cast(json_extract_text('stage_json', '$.displayOrder'), 'integer') }}
            as display_order,
        {{ try_cast(
            "nullif(trim(" ~ json_extract_text('stage_json', '$.metadata.probability') ~ "), '')",
            'decimal(5, 4)'
        ) }} as probability,
        {{ hubspot_boolean(json_extract_text('stage_json', '$.metadata.isClosed')) }}
            as is_closed,
        coalesce(
            {{ hubspot_boolean(json_extract_text('stage_json', '$.archived')) }}, false
        ) as is_archived,
        {{ hubspot_timestamp(json_extract_text('stage_json', '$.createdAt')) }} as created_at,
        {{ hubspot_timestamp(json_extract_text('stage_json', '$.updatedAt')) }}
            as last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from stages

),

final as (

    select
        {{ dbt.concat(['pipeline_id', "':'", 'stage_id']) }} as pipeline_stage_id,
        stage_id,
        pipeline_id,
        stage_label,
        display_order,
        probability,
        is_closed,
        is_archived,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from renamed

)

select * from final
