-- One row per delivered HubSpot deal version in the shape of a CRM opportunity version
-- (int_crm_opportunity_versions_unioned): the stage label of the version's own pipeline,
-- probability x 100, closed / won flags from the deal (else the stage metadata). Versions of a
-- deal absorbed by a merge are dropped; companies point at merge survivors.
with

versions as (

    select
        versions.deal_version_id,
        versions.deal_id,
        coalesce(merged_companies.surviving_id, versions.company_id) as company_id,
        versions.owner_id,
        versions.pipeline_id,
        versions.deal_stage_id,
        versions.deal_type,
        versions.currency,
        versions.amount,
        versions.stage_probability,
        versions.is_closed,
        versions.is_won,
        versions.is_archived,
        versions.close_date,
        versions.created_at,
        versions.last_modified_at,
        versions._delivery_date,
        versions._file_path,
        versions._row_number,
        versions._loaded_at
    from {{ ref('stg_hubspot__deal_versions') }} as versions
    left join {{ ref('int_hubspot_merged_records') }} as merged
        on merged.object_type = 'deal' and versions.deal_id = merged.merged_id
    left join {{ ref('int_hubspot_merged_records') }} as merged_companies
        on
            merged_companies.object_type = 'company'
            and versions.company_id = merged_companies.merged_id
    where merged.merged_id is null

),

stages as (

    select
        pipeline_id,
        stage_id,
        stage_label,
        probability,
        is_closed,
        is_won
    from {{ ref('int_hubspot_deal_stages_labelled') }}

),

final as (

    select
        versions.deal_version_id as opportunity_version_id,
        'hubspot' as crm_source,
        versions.deal_id as opportunity_id,
        versions.company_id as account_id,
        versions.owner_id,
        versions.deal_type as opportunity_type,
        coalesce(stages.stage_label, versions.deal_stage_id) as stage_name,
        versions.currency,
        versions.amount,
        cast(coalesce(versions.stage_probability, stages.probability) * 100 as decimal(5, 2))
            as probability,
        coalesce(versions.is_closed, stages.is_closed) as is_closed,
        coalesce(versions.is_won, stages.is_won) as is_won,
        versions.is_archived as is_deleted,
        versions.close_date,
        versions.created_at,
        versions.last_modified_at,
        versions._delivery_date,
        versions._file_path,
        versions._row_number,
        versions._loaded_at
    from versions
    left join stages
        on versions.pipeline_id = stages.pipeline_id and versions.deal_stage_id = stages.stage_id

)

select * from final
