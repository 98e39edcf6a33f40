-- One row per CRM lead history row from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__lead_history plus `crm_source` after the key. Salesforce's rows as staged, then
-- HubSpot lifecycle stage changes mapped in models/intermediate/crm/hubspot. Every model outside
-- staging reads this view instead of a vendor's staging model.
with

salesforce as (

    select
        lead_history_id,
        'salesforce' as crm_source,
        lead_id,
        field_name,
        old_value,
        new_value,
        changed_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('stg_salesforce__lead_history') }}

),

hubspot as (

    select
        lead_history_id,
        crm_source,
        lead_id,
        field_name,
        old_value,
        new_value,
        changed_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('int_hubspot_lead_history_mapped') }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
