-- One row per stage of each HubSpot deal pipeline (latest export): its label (the stage name
-- the shared models use), probability (0..1), closed flag, and won = closed with probability
-- 1 (HubSpot's Closed Won; its metadata has no won flag), and the forecast category the mapping
-- seed opportunity_stages gives the label (null when the seed has no such label).
with

stages as (

    select
        pipeline_stage_id,
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
    from {{ ref('stg_hubspot__deal_pipeline_stages') }}

),

pipelines as (

    select
        pipeline_id,
        display_order as pipeline_order
    from {{ ref('stg_hubspot__deal_pipelines') }}

),

stage_map as (

    select
        stage_map.stage_name,
        stage_map.forecast_category
    from {{ org_mapping('opportunity_stages') }} as stage_map

),

final as (

    select
        stages.pipeline_stage_id,
        stages.stage_id,
        stages.pipeline_id,
        stages.stage_label,
        stage_map.forecast_category,
        pipelines.pipeline_order,
        stages.display_order,
        stages.probability,
        coalesce(stages.is_closed, false) as is_closed,
        coalesce(stages.is_closed, false) and stages.probability >= 1 as is_won,
        coalesce(stages.is_archived, false) as is_archived,
        stages.created_at,
        stages.last_modified_at,
        stages._delivery_date,
        stages._file_path,
        stages._row_number,
        stages._loaded_at
    from stages
    left join pipelines
        on stages.pipeline_id = pipelines.pipeline_id
    left join stage_map
        on stages.stage_label = stage_map.stage_name

)

select * from final
