-- One row per lead field change of a surviving HubSpot contact in the shape of a CRM lead
-- history row (int_crm_lead_history_unioned): `created` at its creation, a `Status` change per
-- lifecycle stage entered after the first (old and new value consecutive stages, oldest first,
-- from int_hubspot_lifecycle_changes), and `leadConverted` when it converted (the lead's
-- converted_date time).
with

contacts as (

    select
        lead_id,
        is_converted,
        created_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('int_hubspot_leads_mapped') }}

),

lifecycle as (

    select
        change_id,
        contact_id,
        lifecycle_stage,
        change_number,
        entered_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('int_hubspot_lifecycle_changes') }}

),

stage_map as (

    select
        stage_map.lead_status,
        stage_map.funnel_stage_rank
    from {{ org_mapping('lead_status_stages') }} as stage_map
    where stage_map.source_system = 'hubspot'

),

created as (

    select
        {{ dbt.concat(["lead_id", "':created'"]) }} as lead_history_id,
        lead_id,
        'created' as field_name,
        cast(null as {{ dbt.type_string() }}) as old_value,
        cast(null as {{ dbt.type_string() }}) as new_value,
        created_at as changed_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from contacts

),

status_changes as (

    select
        lifecycle.change_id as lead_history_id,
        lifecycle.contact_id as lead_id,
        'Status' as field_name,
        previous.lifecycle_stage as old_value,
        lifecycle.lifecycle_stage as new_value,
        lifecycle.entered_at as changed_at,
        lifecycle._delivery_date,
        lifecycle._file_path,
        lifecycle._row_number,
        lifecycle._loaded_at
    from lifecycle
    inner join lifecycle as previous
        on
            lifecycle.contact_id = previous.contact_id
            and lifecycle.change_number = previous.change_number + 1

),

first_converted as (

    select
        lifecycle.contact_id,
        lifecycle.entered_at,
        lifecycle._delivery_date,
        lifecycle._file_path,
        lifecycle._row_number,
        lifecycle._loaded_at,
        row_number() over (
            partition by lifecycle.contact_id order by lifecycle.change_number
        ) as converted_number
    from lifecycle
    inner join stage_map
        on lifecycle.lifecycle_stage = stage_map.lead_status
    where stage_map.funnel_stage_rank >= 3

),

conversions as (

    select
        {{ dbt.concat(["first_converted.contact_id", "':converted'"]) }} as lead_history_id,
        first_converted.contact_id as lead_id,
        'leadConverted' as field_name,
        cast(null as {{ dbt.type_string() }}) as old_value,
        cast(null as {{ dbt.type_string() }}) as new_value,
        first_converted.entered_at as changed_at,
        first_converted._delivery_date,
        first_converted._file_path,
        first_converted._row_number,
        first_converted._loaded_at
    from first_converted
    inner join contacts
        on first_converted.contact_id = contacts.lead_id
    where first_converted.converted_number = 1

),

unioned as (

    select * from created
    union all
    select * from status_changes
    union all
    select * from conversions

),

final as (

    select
        lead_history_id,
        'hubspot' as crm_source,
        lead_id,
        field_name,
        old_value,
        new_value,
        changed_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from unioned

)

select * from final
