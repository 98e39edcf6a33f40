-- One row per CRM user from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__users plus `crm_source` after the key. Salesforce's rows as staged, then HubSpot
-- owners mapped in models/intermediate/crm/hubspot. Every model outside staging reads this view
-- instead of a vendor's staging model.
{%- set columns = [
    'user_id',
    'manager_id',
    'user_name',
    'email',
    'email_domain',
    'department',
    'title',
    'segment',
    'is_active',
    'created_at',
    'last_modified_at',
    '_delivery_date',
    '_file_path',
    '_row_number',
    '_loaded_at',
] %}

with

salesforce as (

    {{ crm_source_rows('stg_salesforce__users', columns, crm_source='salesforce') }}

),

hubspot as (

    {{ crm_source_rows('int_hubspot_users_mapped', columns) }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
