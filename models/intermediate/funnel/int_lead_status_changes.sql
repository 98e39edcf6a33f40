-- One row per lead status a lead entered: its status at creation, then every Status change
-- from the field history, with the funnel stage each status means: `converted` where the
-- LeadStatus export says IsConverted, else the mapping seed lead_status_stages, else none
-- (rank 0; the status is reported by a warning test). A status maps through the seed rows and
-- the export of the lead's own CRM (`source_system` = the lead's crm_source).
-- Incremental by lead (macros/funnel/affected_leads.sql): a run recomputes the leads with
-- Status history rows loaded since its last run (watermark `_loaded_at` of the change rows)
-- and the leads whose CRM row is new, changed (`_lead_signature` on the initial row) or gone
-- (found once by a pre-hook, kept for this SQL; another deletes a gone lead's rows), and recomputes
-- every lead when the LeadStatus export changed (`_statuses_signature`) or history it had seen
-- was rewritten.
-- `_rows_signature` (initial row) signs all of a lead's rows for int_leads_staged.
{{ config(**affected_leads_config([
    "{{ revops.lead_status_changes_pre_hook() }}",
    "{{ revops.lead_status_changes_keep_affected() }}",
    "{{ revops.delete_kept_gone_keys('leads', 'lead_id') }}",
])) }}

with

{%- if is_incremental() %}

affected_leads as (

    -- found by the pre-hooks, before they deleted their rows
    select affected.lead_id
    from {{ kept_affected_keys_relation('leads', lead_status_changes_affected_leads()) }}
        as affected

),
{%- endif %}

leads as (

    select
        current_leads.lead_id,
        current_leads.crm_source,
        current_leads.lead_status,
        current_leads.created_at,
        {{ lead_status_changes_lead_signature('current_leads') }} as lead_signature,
        current_leads._loaded_at
    from {{ ref('int_crm_leads_unioned') }} as current_leads
    where {{ among_affected_leads('current_leads.lead_id') }}

),

status_history as (

    select
        lead_history_id,
        lead_id,
        crm_source,
        old_value,
        new_value,
        changed_at,
        _loaded_at
    from {{ ref('int_crm_lead_history_unioned') }}
    where
        field_name = 'Status'
        and {{ among_affected_leads('lead_id') }}

),

stage_map as (

    select
        stage_map.lead_status,
        stage_map.source_system,
        stage_map.funnel_stage,
        stage_map.funnel_stage_rank
    from {{ org_mapping('lead_status_stages') }} as stage_map

),

exported_statuses as (

    select
        lead_status,
        crm_source,
        is_converted
    from {{ ref('int_crm_lead_statuses_unioned') }}

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
        leads.crm_source,
        coalesce(first_changes.initial_status, leads.lead_status) as lead_status,
        leads.created_at as entered_at,
        true as is_initial_status,
        leads.lead_signature,
        leads._loaded_at
    from leads
    left join first_changes
        on leads.lead_id = first_changes.lead_id

),

changes as (

    select
        lead_id,
        crm_source,
        new_value as lead_status,
        changed_at as entered_at,
        false as is_initial_status,
        null as lead_signature,
        _loaded_at
    from status_history

),

unioned as (

    select * from initial_statuses
    union all
    select * from changes

),

mapped as (

    select
        unioned.lead_id,
        unioned.lead_status,
        -- The export's IsConverted is the truth about conversion: a status it marks converted
        -- is rank 3 whatever the map says, and one it marks not converted is never rank 3.
        -- A status in neither is no stage (rank 0) and is reported by a warning test.
        case
            when exported_statuses.is_converted then 'converted'
            when exported_statuses.lead_status is not null and stage_map.funnel_stage_rank >= 3
                then 'none'
            else coalesce(stage_map.funnel_stage, 'none')
        end as funnel_stage,
        case
            when exported_statuses.is_converted then 3
            when exported_statuses.lead_status is not null and stage_map.funnel_stage_rank >= 3
                then 0
            else coalesce(stage_map.funnel_stage_rank, 0)
        end as funnel_stage_rank,
        stage_map.lead_status is not null
        or coalesce(exported_statuses.is_converted, false) as is_status_mapped,
        unioned.is_initial_status,
        unioned.entered_at,
        unioned.lead_signature,
        unioned._loaded_at
    from unioned
    left join stage_map
        on
            unioned.lead_status = stage_map.lead_status
            and unioned.crm_source = stage_map.source_system
    left join exported_statuses
        on
            unioned.lead_status = exported_statuses.lead_status
            and unioned.crm_source = exported_statuses.crm_source

),

row_signatures as (

    select
        lead_id,
        {{ row_set_signature([
            'lead_status',
            'funnel_stage',
            'funnel_stage_rank',
            'is_status_mapped',
            'is_initial_status',
            'entered_at',
        ]) }} as rows_signature
    from mapped
    group by lead_id

),

final as (

    select
        mapped.lead_id,
        mapped.lead_status,
        mapped.funnel_stage,
        mapped.funnel_stage_rank,
        mapped.is_status_mapped,
        mapped.is_initial_status,
        mapped.entered_at,
        -- bookkeeping of the incremental runs (on the initial row: the lead's row signature
        -- and the signature of all its rows here)
        mapped.lead_signature as _lead_signature,
        case when mapped.is_initial_status then row_signatures.rows_signature end
            as _rows_signature,
        {{ lead_statuses_signature() }} as _statuses_signature,
        mapped._loaded_at
    from mapped
    inner join row_signatures
        on mapped.lead_id = row_signatures.lead_id

)

select * from final
