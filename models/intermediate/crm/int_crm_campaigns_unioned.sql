-- One row per CRM campaign from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__campaigns plus `crm_source` after the key. Salesforce's rows as staged, then
-- HubSpot campaigns mapped in models/intermediate/crm/hubspot. Every model outside staging reads
-- this view instead of a vendor's staging model.
{%- set columns = [
    'campaign_id',
    'campaign_name',
    'campaign_type',
    'campaign_status',
    'budgeted_cost_usd',
    'actual_cost_usd',
    'is_deleted',
    'start_date',
    'end_date',
    'created_at',
    'last_modified_at',
    '_delivery_date',
    '_file_path',
    '_row_number',
    '_loaded_at',
] %}

with

salesforce as (

    {{ crm_source_rows('stg_salesforce__campaigns', columns, crm_source='salesforce') }}

),

hubspot as (

    {{ crm_source_rows('int_hubspot_campaigns_mapped', columns) }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
