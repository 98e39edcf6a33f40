{#-
    The CTEs of a HubSpot property-history staging model (stg_hubspot__contact_property_history,
    stg_hubspot__deal_property_history), after its `source` CTE `relation` (columns `id`,
    `propertiesWithHistory` and the lineage): one row per change of a tracked property, keyed
    `change_id_column`, of the record `id_column`. Ends with the `final` CTE.

    Every delivered version carries the full history, newest first. Append-only: a run explodes
    the versions loaded since the last run and keeps the changes not already here; the first
    loaded copy of a change stays, so its lineage is the delivery it first arrived in (a
    rebuild explodes every version and keeps the same copy). `change_sequence` numbers a
    property's changes oldest first (1 = its first value) within the version; a cleared value
    is a row with a null value.
-#}
{% macro hubspot_property_history(relation, id_column, change_id_column) -%}
versions as (

    select
        trim(id) as {{ id_column }},
        propertiesWithHistory as properties_with_history,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ relation }}

),

properties as (

    select
        {{ id_column }},
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at,
        {{ json_object_entries('properties_with_history', 'property_name', 'property_history') }}
    from versions

),

changes as (

    select
        {{ id_column }},
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
        {{ id_column }},
        property_name,
        nullif(trim({{ json_extract_text('change_json', '$.value') }}), '') as property_value,
        nullif(trim({{ json_extract_text('change_json', '$.sourceType') }}), '') as source_type,
        {{ hubspot_timestamp(json_extract_text('change_json', '$.timestamp')) }} as changed_at,
        -- delivered newest first: the oldest change is 1
        count(*) over (
            partition by {{ id_column }}, property_name, _file_path, _row_number, _loaded_at
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
            id_column, 'property_name', 'changed_at', 'property_value', 'source_type'
        ]) }} as {{ change_id_column }},
        *
    from renamed

),

ranked as (

    select
        *,
        {{ revops.first_loaded_copy_rank(change_id_column) }} as copy_rank
    from keyed

),

final as (

    select
        {{ change_id_column }},
        {{ id_column }},
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
        and {{ revops.not_already_loaded('ranked', change_id_column) }}

)
{%- endmacro %}
