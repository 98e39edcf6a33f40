-- One row per CRM user from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__users plus `crm_source` after the key. Salesforce's rows as staged, then HubSpot
-- owners mapped in models/intermediate/crm/hubspot. Every model outside staging reads this view
-- instead of a vendor's staging model.
with

salesforce as (

    select
        user_id,
        'salesforce' as crm_source,
        manager_id,
        user_name,
        email,
        email_domain,
        department,
        title,
        segment,
        is_active,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('stg_salesforce__users') }}

),

hubspot as (

    select
        user_id,
        crm_source,
        manager_id,
        user_name,
        email,
        email_domain,
        department,
        title,
        segment,
        is_active,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('int_hubspot_users_mapped') }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
