-- One row per CRM lead from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__leads plus `crm_source` after the key. Salesforce's rows as staged, then HubSpot
-- contacts mapped in models/intermediate/crm/hubspot. Every model outside staging reads this view
-- instead of a vendor's staging model.
{%- set columns = [
    'lead_id',
    'owner_id',
    'owner_type',
    'converted_account_id',
    'converted_contact_id',
    'converted_opportunity_id',
    'first_name',
    'last_name',
    'email',
    'email_domain',
    'company',
    'title',
    'lead_source',
    'lead_status',
    'country',
    'industry',
    'number_of_employees',
    'is_converted',
    'is_deleted',
    'converted_date',
    'created_at',
    'last_modified_at',
    '_delivery_date',
    '_file_path',
    '_row_number',
    '_loaded_at',
] %}

with

salesforce as (

    {{ crm_source_rows('stg_salesforce__leads', columns, crm_source='salesforce') }}

),

hubspot as (

    {{ crm_source_rows('int_hubspot_leads_mapped', columns) }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
