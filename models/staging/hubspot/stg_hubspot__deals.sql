-- One row per HubSpot deal: the latest delivered version (latest `updatedAt`), archived
-- (deleted) deals flagged. The stage is a stage id of the deal's pipeline
-- (stg_hubspot__deal_pipeline_stages has its label and probability).
--
-- Incremental on DuckDB: the latest version of each key is merged in from the rows loaded
-- since the last run (macros/staging/incremental_staging.sql).
{{ config(**latest_version_config('deal_id')) }}

with

source as (

    select
        id,
        properties,
        associations,
        createdAt,
        updatedAt,
        archived,
        archivedAt,
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
        nullif(
            trim({{ json_extract_text('associations', '$.contacts.results[0].id') }}), ''
        ) as contact_id,
        {{ hubspot_property('hubspot_owner_id') }} as owner_id,
        {{ hubspot_property('pipeline') }} as pipeline_id,
        {{ hubspot_property('dealstage') }} as deal_stage_id,
        {{ hubspot_property('hs_campaign') }} as campaign_id,
        {{ hubspot_property('hs_merged_object_ids') }} as merged_deal_ids,
        {{ hubspot_property('dealname') }} as deal_name,
        {{ hubspot_deal_state_fields() }}
        {{ parse_utc_timestamp('archivedAt') }} as archived_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

candidates as (

    {{ with_current_versions('renamed', 'deal_id') }}

),

ranked as (

    select
        *,
        {{ latest_version_rank('deal_id', 'last_modified_at') }} as version_rank
    from candidates

),

final as (

    select
        deal_id,
        company_id,
        contact_id,
        owner_id,
        pipeline_id,
        deal_stage_id,
        campaign_id,
        merged_deal_ids,
        deal_name,
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
        archived_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
