-- One row per HubSpot company: the latest delivered version (latest `updatedAt`), archived
-- (deleted) companies flagged.
--
-- Incremental on DuckDB: the latest version of each key is merged in from the rows loaded
-- since the last run (macros/staging/incremental_staging.sql).
{{ config(**latest_version_config('company_id')) }}

with

source as (

    select
        id,
        properties,
        createdAt,
        updatedAt,
        archived,
        archivedAt,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('hubspot', 'companies') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        trim(id) as company_id,
        {{ hubspot_property('hubspot_owner_id') }} as owner_id,
        {{ hubspot_property('hs_merged_object_ids') }} as merged_company_ids,
        {{ hubspot_property('name') }} as company_name,
        {{ hubspot_property('domain') }} as domain,  -- noqa: RF04
        -- The bare domain (no scheme, `www.` or path), as stg_salesforce__accounts derives
        -- it from the Website: billing customers' email domains are matched to it.
        nullif(
            regexp_replace(
                regexp_replace(
                    lower({{ hubspot_property('domain') }}), '^(https?://)?(www[.])?', ''
                ),
                '/.*$',
                ''
            ),
            ''
        ) as website_domain,
        {{ hubspot_property('industry') }} as industry,
        {{ hubspot_property('country') }} as country,
        {{ hubspot_property('lifecyclestage') }} as lifecycle_stage,
        {{ digits_to_bigint(hubspot_property('numberofemployees')) }} as number_of_employees,
        {{ try_cast(hubspot_property('annualrevenue'), 'decimal(18, 2)') }} as annual_revenue,
        coalesce({{ try_cast('lower(trim(archived))', 'boolean') }}, false) as is_archived,
        coalesce(
            {{ hubspot_timestamp(hubspot_property('createdate')) }},
            {{ parse_utc_timestamp('createdAt') }}
        ) as created_at,
        {{ parse_utc_timestamp('updatedAt') }} as last_modified_at,
        {{ parse_utc_timestamp('archivedAt') }} as archived_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

candidates as (

    {{ with_current_versions('renamed', 'company_id') }}

),

ranked as (

    select
        *,
        {{ latest_version_rank('company_id', 'last_modified_at') }} as version_rank
    from candidates

),

final as (

    select
        company_id,
        owner_id,
        merged_company_ids,
        company_name,
        domain,
        website_domain,
        industry,
        country,
        lifecycle_stage,
        number_of_employees,
        annual_revenue,
        is_archived,
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
