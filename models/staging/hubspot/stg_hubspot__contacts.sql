-- One row per HubSpot contact: the latest delivered version (latest `updatedAt`), archived
-- (deleted) contacts flagged. Every property arrives as a string; empty means null.
--
-- Incremental on DuckDB: the latest version of each key is merged in from the rows loaded
-- since the last run (macros/staging/incremental_staging.sql).
{{ config(**latest_version_config('contact_id')) }}

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
    from {{ source('hubspot', 'contacts') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        trim(id) as contact_id,
        {{ hubspot_property('hubspot_owner_id') }} as owner_id,
        -- the primary company; else the first associated one
        coalesce(
            {{ hubspot_property('associatedcompanyid') }},
            nullif(trim({{ json_extract_text('associations', '$.companies.results[0].id') }}), '')
        ) as associated_company_id,
        {{ hubspot_property('hs_merged_object_ids') }} as merged_contact_ids,
        {{ normalize_email(hubspot_property('email')) }} as email,
        {{ email_domain(hubspot_property('email')) }} as email_domain,
        {{ hubspot_property('firstname') }} as first_name,
        {{ hubspot_property('lastname') }} as last_name,
        {{ hubspot_property('company') }} as company_name,
        {{ hubspot_property('jobtitle') }} as job_title,
        {{ hubspot_property('country') }} as country,
        {{ hubspot_property('industry') }} as industry,
        {{ hubspot_property('lifecyclestage') }} as lifecycle_stage,
        {{ hubspot_property('hs_lead_status') }} as lead_status,
        {{ hubspot_property('hs_analytics_source') }} as analytics_source,
        {{ hubspot_property('hs_analytics_source_data_1') }} as analytics_source_data_1,
        {{ hubspot_property('hs_analytics_source_data_2') }} as analytics_source_data_2,
        {{ hubspot_property('utm_source') }} as utm_source,
        {{ hubspot_property('utm_medium') }} as utm_medium,
        {{ hubspot_property('utm_campaign') }} as utm_campaign,
        -- digits only; a range option such as `25-50` is not a count (null, counted by the
        -- model's test)
        {{ digits_to_bigint(hubspot_property('numemployees')) }} as number_of_employees,
        coalesce({{ try_cast('lower(trim(archived))', 'boolean') }}, false) as is_archived,
        {%- for stage, column in [
            ('subscriber', 'subscriber'), ('lead', 'lead'), ('marketingqualifiedlead', 'mql'),
            ('salesqualifiedlead', 'sql'), ('opportunity', 'opportunity'),
            ('customer', 'customer'), ('evangelist', 'evangelist'), ('other', 'other')
        ] %}
        {{ hubspot_timestamp(hubspot_property('hs_lifecyclestage_' ~ stage ~ '_date')) }}
            as became_{{ column }}_at,
        {%- endfor %}
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

    {{ with_current_versions('renamed', 'contact_id') }}

),

ranked as (

    select
        *,
        {{ latest_version_rank('contact_id', 'last_modified_at') }} as version_rank
    from candidates

),

final as (

    select
        contact_id,
        owner_id,
        associated_company_id,
        merged_contact_ids,
        email,
        email_domain,
        first_name,
        last_name,
        company_name,
        job_title,
        country,
        industry,
        lifecycle_stage,
        lead_status,
        analytics_source,
        analytics_source_data_1,
        analytics_source_data_2,
        utm_source,
        utm_medium,
        utm_campaign,
        number_of_employees,
        is_archived,
        became_subscriber_at,
        became_lead_at,
        became_mql_at,
        became_sql_at,
        became_opportunity_at,
        became_customer_at,
        became_evangelist_at,
        became_other_at,
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
