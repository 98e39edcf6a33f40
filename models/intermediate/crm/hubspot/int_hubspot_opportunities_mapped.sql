-- One row per surviving HubSpot deal in the shape of a CRM opportunity
-- (int_crm_opportunities_unioned): stage_name = the label of the deal's stage in its current
-- pipeline (the stage id as delivered when the pipeline export does not know it: a fallback
-- stage downstream), probability = hs_deal_stage_probability x 100 (else the stage's),
-- closed / won from hs_is_closed / hs_is_closed_won (else the stage metadata), account = the
-- first associated company, lead source = that of the first associated contact (merge
-- survivors both) on the contact's first deal only: the deal it converted with, as Salesforce
-- copies a lead's source onto the opportunity of its conversion and onto no later one (an
-- expansion or renewal deal has none). Archived = deleted; a deal absorbed by a merge is
-- dropped.
with

deals as (

    select
        deals.deal_id,
        coalesce(merged_companies.surviving_id, deals.company_id) as company_id,
        coalesce(merged_contacts.surviving_id, deals.contact_id) as contact_id,
        deals.owner_id,
        deals.pipeline_id,
        deals.deal_stage_id,
        deals.campaign_id,
        deals.deal_name,
        deals.deal_type,
        deals.currency,
        deals.amount,
        deals.stage_probability,
        deals.is_closed,
        deals.is_won,
        deals.is_archived,
        deals.close_date,
        deals.created_at,
        deals.last_modified_at,
        deals._delivery_date,
        deals._file_path,
        deals._row_number,
        deals._loaded_at,
        -- the contact's deals in order (int_hubspot_leads_mapped: the first is its conversion)
        row_number() over (
            partition by coalesce(merged_contacts.surviving_id, deals.contact_id)
            order by deals.created_at, deals.deal_id
        ) as contact_deal_number
    from {{ ref('stg_hubspot__deals') }} as deals
    left join {{ ref('int_hubspot_merged_records') }} as merged
        on merged.object_type = 'deal' and deals.deal_id = merged.merged_id
    left join {{ ref('int_hubspot_merged_records') }} as merged_companies
        on
            merged_companies.object_type = 'company'
            and deals.company_id = merged_companies.merged_id
    left join {{ ref('int_hubspot_merged_records') }} as merged_contacts
        on merged_contacts.object_type = 'contact' and deals.contact_id = merged_contacts.merged_id
    where merged.merged_id is null

),

stages as (

    select
        pipeline_id,
        stage_id,
        stage_label,
        forecast_category,
        probability,
        is_closed,
        is_won
    from {{ ref('int_hubspot_deal_stages_labelled') }}

),

sources as (

    select
        contact_id,
        lead_source
    from {{ ref('int_hubspot_contacts_sourced') }}

),

final as (

    select
        deals.deal_id as opportunity_id,
        'hubspot' as crm_source,
        deals.company_id as account_id,
        deals.owner_id,
        'user' as owner_type,
        deals.campaign_id,
        deals.deal_name as opportunity_name,
        deals.deal_type as opportunity_type,
        coalesce(stages.stage_label, deals.deal_stage_id) as stage_name,
        stages.forecast_category,
        sources.lead_source,
        deals.currency,
        deals.amount,
        cast(coalesce(deals.stage_probability, stages.probability) * 100 as decimal(5, 2))
            as probability,
        coalesce(deals.is_closed, stages.is_closed) as is_closed,
        coalesce(deals.is_won, stages.is_won) as is_won,
        deals.is_archived as is_deleted,
        deals.close_date,
        deals.created_at,
        deals.last_modified_at,
        deals._delivery_date,
        deals._file_path,
        deals._row_number,
        deals._loaded_at
    from deals
    left join stages
        on deals.pipeline_id = stages.pipeline_id and deals.deal_stage_id = stages.stage_id
    left join sources
        on deals.contact_id = sources.contact_id and deals.contact_deal_number = 1

)

select * from final
