-- One row per change of a tracked HubSpot contact property (`lifecyclestage`,
-- `hs_lead_status`): the contact's `propertiesWithHistory` exploded, one row per value it
-- was set to (a cleared value is a row with a null value).
--
-- Every delivered version carries the full history, newest first. Incremental (append-only):
-- a run explodes the versions loaded since the last run and appends the changes not already
-- here; the first loaded copy of a change stays, so its lineage is the delivery it first
-- arrived in (a rebuild explodes every version and keeps the same copy). `change_sequence`
-- numbers a property's changes oldest first (1 = its first value) within the version.
{{ config(**append_only_config()) }}

with

source as (

    select
        id,
        propertiesWithHistory,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('hubspot', 'contacts') }}
    {{ loaded_since_last_run() }}

),

versions as (

    select
        trim(id) as contact_id,
        propertiesWithHistory as properties_with_history,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

properties as (

    select
        contact_id,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at,
        {{ json_object_entries('properties_with_history', 'property_name', 'property_history') }}
    from versions

),

changes as (

    select
        contact_id,
        property_name,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at,
        {{ json_array_elements('property_history', 'history_index', 'change_json') }}
    from properties

),

renamed as (

    select
        contact_id,
        property_name,
        nullif(trim({{ json_extract_text('change_json', '$.value') }}), '') as property_value,
        nullif(trim({{ json_extract_text('change_json', '$.sourceType') }}), '') as source_type,
        {{ hubspot_timestamp(json_extract_text('change_json', '$.timestamp')) }} as changed_at,
        -- delivered newest first: the oldest change is 1
        count(*) over (
            partition by contact_id, property_name, _file_path, _row_number, _loaded_at
        ) - history_index
            as change_sequence,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from changes

),

keyed as (

    select
        {{ surrogate_key([
            'contact_id', 'property_name', 'changed_at', 'property_value', 'source_type'
        ]) }} as contact_property_change_id,
        *
    from renamed

),

ranked as (

    select
        *,
        {{ first_loaded_copy_rank('contact_property_change_id') }} as copy_rank
    from keyed

),

final as (

    select
        contact_property_change_id,
        contact_id,
        property_name,
        property_value,
        source_type,
        changed_at,
        change_sequence,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where
        copy_rank = 1
        and {{ not_already_loaded('ranked', 'contact_property_change_id') }}

)

select * from final
