-- One row per CRM account from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__accounts plus `crm_source` after the key. Salesforce's rows as staged, then
-- HubSpot companies mapped in models/intermediate/crm/hubspot. Every model outside staging reads
-- this view instead of a vendor's staging model.
{%- set columns = [
    'account_id',
    'owner_id',
    'owner_type',
    'account_name',
    'website',
    'website_domain',
    'industry',
    'billing_country',
    'account_type',
    'currency',
    'number_of_employees',
    'annual_revenue',
    'is_deleted',
    'created_at',
    'last_modified_at',
    '_delivery_date',
    '_file_path',
    '_row_number',
    '_loaded_at',
] %}

with

salesforce as (

    {{ crm_source_rows('stg_salesforce__accounts', columns, crm_source='salesforce') }}

),

hubspot as (

    {{ crm_source_rows('int_hubspot_accounts_mapped', columns) }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
