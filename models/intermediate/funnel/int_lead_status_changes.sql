-- One row per lead status a lead entered: its status at creation, then every Status change
-- from the field history, with the funnel stage each status means (seed lead_status_stages).
with

leads as (

    select
        lead_id,
        lead_status,
        created_at
    from {{ ref('stg_salesforce__leads') }}

),

status_history as (

    select
        lead_history_id,
        lead_id,
        old_value,
        new_value,
        changed_at
    from {{ ref('stg_salesforce__lead_history') }}
    where field_name = 'Status'

),

stage_map as (

    select
        lead_status,
        funnel_stage,
        funnel_stage_rank
    from {{ ref('lead_status_stages') }}
    where source_system = 'salesforce'

),

ordered_changes as (

    select
        lead_id,
        old_value,
        row_number() over (
            partition by lead_id order by changed_at asc, lead_history_id asc
        ) as change_number
    from status_history

),

first_changes as (

    -- The status a lead was created with is the old value of its first status change.
    select
        lead_id,
        old_value as initial_status
    from ordered_changes
    where change_number = 1

),

initial_statuses as (

    select
        leads.lead_id,
        coalesce(first_changes.initial_status, leads.lead_status) as lead_status,
        leads.created_at as entered_at,
        true as is_initial_status
    from leads
    left join first_changes
        on leads.lead_id = first_changes.lead_id

),

changes as (

    select
        lead_id,
        new_value as lead_status,
        changed_at as entered_at,
        false as is_initial_status
    from status_history

),

unioned as (

    select * from initial_statuses
    union all
    select * from changes

),

final as (

    select
        unioned.lead_id,
        unioned.lead_status,
        stage_map.funnel_stage,
        -- A status missing from the stage map counts as no stage (and is tested for).
        coalesce(stage_map.funnel_stage_rank, 0) as funnel_stage_rank,
        unioned.is_initial_status,
        unioned.entered_at
    from unioned
    left join stage_map
        on unioned.lead_status = stage_map.lead_status

)

select * from final
