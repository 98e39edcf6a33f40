-- One row per delivered version of a HubSpot deal (every state it was exported in, not only
-- the latest), like stg_salesforce__opportunity_versions: the point-in-time pipeline reads
-- the fields the property history does not carry as of a day. A version is a deal at one
-- `updatedAt`.
--
-- Incremental: a run appends the versions loaded since the last run that are not already
-- here (macros/staging/incremental_staging.sql); the first loaded copy of a version is kept.
{{ config(**append_only_config()) }}

with

source as (

    select
        id,
        properties,
        associations,
        createdAt,
        updatedAt,
        archived,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('hubspot', 'deals') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        trim(id) as deal_id,
        nullif(
            trim({{ json_extract_text('associations', '$.companies.results[0].id') }}), ''
        ) as company_id,
        {{ hubspot_property('hubspot_owner_id') }} as owner_id,
        {{ hubspot_property('pipeline') }} as pipeline_id,
        {{ hubspot_property('dealstage') }} as deal_stage_id,
        {{ hubspot_deal_state_fields() }}
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

keyed as (

    select
        {{ surrogate_key(['deal_id', 'last_modified_at']) }} as deal_version_id,
        *
    from renamed

),

ranked as (

    -- A re-sent or duplicated line is the same version: the first loaded copy stays.
    select
        *,
        {{ first_loaded_copy_rank('deal_version_id') }} as copy_rank
    from keyed

),

final as (

    select
        deal_version_id,
        deal_id,
        company_id,
        owner_id,
        pipeline_id,
        deal_stage_id,
        deal_type,
        currency,
        amount,
        stage_probability,
        is_closed,
        is_won,
        is_archived,
        close_date,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where
        copy_rank = 1
        and {{ not_already_loaded('ranked', 'deal_version_id') }}

)

select * from final
