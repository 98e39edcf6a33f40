-- One row per CRM lead status from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__lead_statuses plus `crm_source` after the key. HubSpot exports no lead statuses
-- (its lifecycle stages map through the seed lead_status_stages). Every model outside staging
-- reads this view instead of a vendor's staging model.
{%- set columns = [
    'lead_status_id',
    'lead_status',
    'status_label',
    'sort_order',
    'is_default',
    'is_converted',
    'created_at',
    'last_modified_at',
    '_delivery_date',
    '_file_path',
    '_row_number',
    '_loaded_at',
] %}

with

salesforce as (

    {{ crm_source_rows('stg_salesforce__lead_statuses', columns, crm_source='salesforce') }}

),

final as (

    select * from salesforce

)

select * from final
