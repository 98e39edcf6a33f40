-- One row per CRM opportunity version from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__opportunity_versions plus `crm_source` after the key. Salesforce's rows as
-- staged, then HubSpot deal versions mapped in models/intermediate/crm/hubspot. Every model
-- outside staging reads this view instead of a vendor's staging model.
with

salesforce as (

    select
        opportunity_version_id,
        'salesforce' as crm_source,
        opportunity_id,
        account_id,
        owner_id,
        opportunity_type,
        stage_name,
        currency,
        amount,
        probability,
        is_closed,
        is_won,
        is_deleted,
        close_date,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('stg_salesforce__opportunity_versions') }}

),

hubspot as (

    select
        opportunity_version_id,
        crm_source,
        opportunity_id,
        account_id,
        owner_id,
        opportunity_type,
        stage_name,
        currency,
        amount,
        probability,
        is_closed,
        is_won,
        is_deleted,
        close_date,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('int_hubspot_opportunity_versions_mapped') }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
