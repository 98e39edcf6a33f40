-- One row per CRM lead from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__leads plus `crm_source` after the key. Salesforce's rows as staged, then HubSpot
-- contacts mapped in models/intermediate/crm/hubspot. Every model outside staging reads this view
-- instead of a vendor's staging model.
with

salesforce as (

    select
        lead_id,
        'salesforce' as crm_source,
        owner_id,
        owner_type,
        converted_account_id,
        converted_contact_id,
        converted_opportunity_id,
        first_name,
        last_name,
        email,
        email_domain,
        company,
        title,
        lead_source,
        lead_status,
        country,
        industry,
        number_of_employees,
        is_converted,
        is_deleted,
        converted_date,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('stg_salesforce__leads') }}

),

hubspot as (

    select
        lead_id,
        crm_source,
        owner_id,
        owner_type,
        converted_account_id,
        converted_contact_id,
        converted_opportunity_id,
        first_name,
        last_name,
        email,
        email_domain,
        company,
        title,
        lead_source,
        lead_status,
        country,
        industry,
        number_of_employees,
        is_converted,
        is_deleted,
        converted_date,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('int_hubspot_leads_mapped') }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
