-- One row per CRM opportunity from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__opportunities plus `crm_source` after the key. Salesforce's rows as staged, then
-- HubSpot deals mapped in models/intermediate/crm/hubspot. Every model outside staging reads this
-- view instead of a vendor's staging model.
{%- set columns = [
    'opportunity_id',
    'account_id',
    'owner_id',
    'owner_type',
    'campaign_id',
    'opportunity_name',
    'opportunity_type',
    'stage_name',
    'forecast_category',
    'lead_source',
    'currency',
    'amount',
    'probability',
    'is_closed',
    'is_won',
    'is_deleted',
    'close_date',
    'created_at',
    'last_modified_at',
    '_delivery_date',
    '_file_path',
    '_row_number',
    '_loaded_at',
] %}

with

salesforce as (

    {{ crm_source_rows('stg_salesforce__opportunities', columns, crm_source='salesforce') }}

),

hubspot as (

    {{ crm_source_rows('int_hubspot_opportunities_mapped', columns) }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
