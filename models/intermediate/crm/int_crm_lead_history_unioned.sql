-- One row per CRM lead history row from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__lead_history plus `crm_source` after the key. Salesforce's rows as staged, then
-- HubSpot lifecycle stage changes mapped in models/intermediate/crm/hubspot. Every model outside
-- staging reads this view instead of a vendor's staging model.
{%- set columns = [
    'lead_history_id',
    'lead_id',
    'field_name',
    'old_value',
    'new_value',
    'changed_at',
    '_delivery_date',
    '_file_path',
    '_row_number',
    '_loaded_at',
] %}

with

salesforce as (

    {{ crm_source_rows('stg_salesforce__lead_history', columns, crm_source='salesforce') }}

),

hubspot as (

    {{ crm_source_rows('int_hubspot_lead_history_mapped', columns) }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
