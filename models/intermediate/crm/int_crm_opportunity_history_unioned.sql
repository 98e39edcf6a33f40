-- One row per CRM opportunity history row from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__opportunity_history plus `crm_source` after the key. Salesforce's rows as
-- staged, then HubSpot deal property changes mapped in models/intermediate/crm/hubspot. Every
-- model outside staging reads this view instead of a vendor's staging model.
{%- set columns = [
    'opportunity_history_id',
    'opportunity_id',
    'stage_name',
    'amount',
    'probability',
    'close_date',
    'changed_at',
    '_delivery_date',
    '_file_path',
    '_row_number',
    '_loaded_at',
] %}

with

salesforce as (

    {{ crm_source_rows('stg_salesforce__opportunity_history', columns, crm_source='salesforce') }}

),

hubspot as (

    {{ crm_source_rows('int_hubspot_opportunity_history_mapped', columns) }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
