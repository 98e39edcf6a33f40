-- Fails with one row when the stage named by the setting pipeline_velocity_past_stage is not
-- one of the org's opportunity stages (int_opportunity_stages_resolved): no opportunity would
-- qualify and pipeline velocity would be null in every month, silently. The row says how many
-- months of pipeline_velocity_by_month that leaves without velocity.
with

stages as (

    select stage_name
    from {{ ref('int_opportunity_stages_resolved') }}

),

velocity_months as (

    select count(distinct month) as months_without_velocity
    from {{ ref('pipeline_velocity_by_month') }}

),

matched as (

    select count(*) as matching_stages
    from stages
    where stage_name = '{{ setting("pipeline_velocity_past_stage") }}'

),

final as (

    select
        '{{ setting("pipeline_velocity_past_stage") }}' as pipeline_velocity_past_stage,
        velocity_months.months_without_velocity
    from matched
    cross join velocity_months
    where matched.matching_stages = 0

)

select * from final
