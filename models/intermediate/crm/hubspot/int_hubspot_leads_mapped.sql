-- One row per surviving HubSpot contact in the shape of a CRM lead (int_crm_leads_unioned):
-- lead_id = contact id, lead_status = lifecycle stage (its funnel stage from the
-- lead_status_stages `hubspot` rows), lead_source from hubspot_lead_sources. Converted when it
-- entered a stage the seed counts as converted or has a deal (int_hubspot_lifecycle_changes
-- gives a deal-only contact the deal's stage); then converted_date is that first entry,
-- converted_account_id its associated company (the survivor of a merge), converted_contact_id
-- itself and converted_opportunity_id its first deal. Archived = deleted. A contact absorbed by
-- a merge is not a lead (the survivor is).
with

contacts as (

    select
        contacts.contact_id,
        contacts.owner_id,
        coalesce(merged_companies.surviving_id, contacts.associated_company_id)
            as associated_company_id,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        contacts.email_domain,
        contacts.company_name,
        contacts.job_title,
        contacts.lifecycle_stage,
        contacts.country,
        contacts.industry,
        contacts.number_of_employees,
        contacts.is_archived,
        contacts.created_at,
        contacts.last_modified_at,
        contacts._delivery_date,
        contacts._file_path,
        contacts._row_number,
        contacts._loaded_at
    from {{ ref('stg_hubspot__contacts') }} as contacts
    left join {{ ref('int_hubspot_merged_records') }} as merged
        on merged.object_type = 'contact' and contacts.contact_id = merged.merged_id
    left join {{ ref('int_hubspot_merged_records') }} as merged_companies
        on
            merged_companies.object_type = 'company'
            and contacts.associated_company_id = merged_companies.merged_id
    where merged.merged_id is null

),

sources as (

    select
        contact_id,
        lead_source
    from {{ ref('int_hubspot_contacts_sourced') }}

),

stage_map as (

    select
        stage_map.lead_status,
        stage_map.funnel_stage_rank
    from {{ org_mapping('lead_status_stages') }} as stage_map
    where stage_map.source_system = 'hubspot'

),

lifecycle as (

    select
        contact_id,
        lifecycle_stage,
        change_source,
        entered_at
    from {{ ref('int_hubspot_lifecycle_changes') }}

),

conversions as (

    select
        lifecycle.contact_id,
        min(lifecycle.entered_at) as converted_at
    from lifecycle
    left join stage_map
        on lifecycle.lifecycle_stage = stage_map.lead_status
    where stage_map.funnel_stage_rank >= 3 or lifecycle.change_source = 'deal'
    group by lifecycle.contact_id

),

deals as (

    select
        coalesce(merged_contacts.surviving_id, deals.contact_id) as contact_id,
        deals.deal_id,
        row_number() over (
            partition by coalesce(merged_contacts.surviving_id, deals.contact_id)
            order by deals.created_at, deals.deal_id
        ) as deal_number
    from {{ ref('stg_hubspot__deals') }} as deals
    left join {{ ref('int_hubspot_merged_records') }} as merged_deals
        on merged_deals.object_type = 'deal' and deals.deal_id = merged_deals.merged_id
    left join {{ ref('int_hubspot_merged_records') }} as merged_contacts
        on merged_contacts.object_type = 'contact' and deals.contact_id = merged_contacts.merged_id
    where deals.contact_id is not null and merged_deals.merged_id is null

),

final as (

    select
        contacts.contact_id as lead_id,
        'hubspot' as crm_source,
        contacts.owner_id,
        'user' as owner_type,
        case
            when conversions.contact_id is not null then contacts.associated_company_id
        end as converted_account_id,
        case when conversions.contact_id is not null then contacts.contact_id end
            as converted_contact_id,
        case when conversions.contact_id is not null then deals.deal_id end
            as converted_opportunity_id,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        contacts.email_domain,
        contacts.company_name as company,
        contacts.job_title as title,
        sources.lead_source,
        contacts.lifecycle_stage as lead_status,
        contacts.country,
        contacts.industry,
        contacts.number_of_employees,
        conversions.contact_id is not null as is_converted,
        contacts.is_archived as is_deleted,
        cast(conversions.converted_at as date) as converted_date,
        contacts.created_at,
        contacts.last_modified_at,
        contacts._delivery_date,
        contacts._file_path,
        contacts._row_number,
        contacts._loaded_at
    from contacts
    left join sources
        on contacts.contact_id = sources.contact_id
    left join conversions
        on contacts.contact_id = conversions.contact_id
    left join deals
        on contacts.contact_id = deals.contact_id and deals.deal_number = 1

)

select * from final
