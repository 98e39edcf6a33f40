-- One row per HubSpot deal stage label in the shape of an exported opportunity stage
-- (int_crm_opportunity_stages_unioned). Shared models know a stage by its name, so a label
-- used by several pipelines is one stage: the one of the first pipeline (display order, then
-- id) gives its order, probability (x 100) and flags. Forecast category from the mapping seed
-- opportunity_stages by label.
with

stages as (

    select
        pipeline_stage_id,
        stage_label,
        forecast_category,
        display_order,
        probability,
        is_closed,
        is_won,
        is_archived,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at,
        row_number() over (
            partition by stage_label
            order by pipeline_order, pipeline_id, display_order, stage_id
        ) as label_rank
    from {{ ref('int_hubspot_deal_stages_labelled') }}

),

final as (

    select
        pipeline_stage_id as opportunity_stage_id,
        'hubspot' as crm_source,
        stage_label as stage_name,
        stage_label,
        forecast_category,
        cast(display_order as bigint) as sort_order,
        cast(probability * 100 as decimal(5, 2)) as default_probability,
        not is_archived as is_active,
        is_closed,
        is_won,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from stages
    where label_rank = 1

)

select * from final
