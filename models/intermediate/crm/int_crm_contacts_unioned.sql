-- One row per CRM contact from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__contacts plus `crm_source` after the key. Every model outside staging reads this
-- view instead of a vendor's staging model.
with

salesforce as (

    select
        contact_id,
        'salesforce' as crm_source,
        account_id,
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
    from {{ ref('stg_salesforce__contacts') }}

),

final as (

    select * from salesforce

)

select * from final
