-- Fails with one row when the stage named by the setting pipeline_velocity_past_stage is not
-- one of the org's opportunity stages (int_opportunity_stages_resolved): no opportunity would
-- qualify and pipeline velocity would be null in every month, silently.
with

stages as (

    select stage_name
    from {{ ref('int_opportunity_stages_resolved') }}

),

matched as (

    select count(*) as matching_stages
    from stages
    where stage_name = '{{ setting("pipeline_velocity_past_stage") }}'

),

final as (

    select
        '{{ setting("pipeline_velocity_past_stage") }}' as pipeline_velocity_past_stage,
        matching_stages
    from matched
    where matching_stages = 0

)

select * from final
