-- One row per surviving HubSpot contact with an associated company, in the shape of a CRM
-- contact (int_crm_contacts_unioned): contact_id = contact id, account_id = the company (the
-- survivor of a merge), title = job title, lead_source from hubspot_lead_sources.
with

leads as (

    select
        lead_id,
        owner_id,
        owner_type,
        first_name,
        last_name,
        email,
        email_domain,
        title,
        lead_source,
        is_deleted,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('int_hubspot_leads_mapped') }}

),

companies as (

    select
        coalesce(merged.surviving_id, contacts.associated_company_id) as account_id,
        contacts.contact_id
    from {{ ref('stg_hubspot__contacts') }} as contacts
    left join {{ ref('int_hubspot_merged_records') }} as merged
        on merged.object_type = 'company' and contacts.associated_company_id = merged.merged_id
    where contacts.associated_company_id is not null

),

final as (

    select
        leads.lead_id as contact_id,
        'hubspot' as crm_source,
        companies.account_id,
        leads.owner_id,
        leads.owner_type,
        leads.first_name,
        leads.last_name,
        leads.email,
        leads.email_domain,
        leads.title,
        leads.lead_source,
        leads.is_deleted,
        leads.created_at,
        leads.last_modified_at,
        leads._delivery_date,
        leads._file_path,
        leads._row_number,
        leads._loaded_at
    from leads
    inner join companies
        on leads.lead_id = companies.contact_id

)

select * from final
