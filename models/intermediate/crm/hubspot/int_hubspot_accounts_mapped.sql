-- One row per surviving HubSpot company in the shape of a CRM account
-- (int_crm_accounts_unioned): account_type is the company's lifecycle stage as delivered
-- (HubSpot has no account type; docs/CONFIGURATION.md, "CRM sources"), website its domain,
-- currency null (companies carry none: the corporate currency applies downstream). Archived =
-- deleted; a company absorbed by a merge is dropped (its contacts and deals point at the
-- survivor).
with

companies as (

    select
        companies.company_id,
        companies.owner_id,
        companies.company_name,
        companies.domain,
        companies.website_domain,
        companies.industry,
        companies.country,
        companies.lifecycle_stage,
        companies.number_of_employees,
        companies.annual_revenue,
        companies.is_archived,
        companies.created_at,
        companies.last_modified_at,
        companies._delivery_date,
        companies._file_path,
        companies._row_number,
        companies._loaded_at
    from {{ ref('stg_hubspot__companies') }} as companies
    left join {{ ref('int_hubspot_merged_records') }} as merged
        on merged.object_type = 'company' and companies.company_id = merged.merged_id
    where merged.merged_id is null

),

final as (

    select
        company_id as account_id,
        'hubspot' as crm_source,
        owner_id,
        'user' as owner_type,
        company_name as account_name,
        domain as website,
        website_domain,
        industry,
        country as billing_country,
        lifecycle_stage as account_type,
        cast(null as {{ dbt.type_string() }}) as currency,
        number_of_employees,
        annual_revenue,
        is_archived as is_deleted,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from companies

)

select * from final
