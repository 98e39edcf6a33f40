-- One row per CRM contact from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__contacts plus `crm_source` after the key. Salesforce's rows as staged, then
-- HubSpot contacts with a company mapped in models/intermediate/crm/hubspot. Every model outside
-- staging reads this view instead of a vendor's staging model.
{%- set columns = [
    'contact_id',
    'account_id',
    'owner_id',
    'owner_type',
    'first_name',
    'last_name',
    'email',
    'email_domain',
    'title',
    'lead_source',
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

    {{ crm_source_rows('stg_salesforce__contacts', columns, crm_source='salesforce') }}

),

hubspot as (

    {{ crm_source_rows('int_hubspot_contacts_mapped', columns) }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
