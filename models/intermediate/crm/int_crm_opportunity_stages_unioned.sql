-- One row per CRM opportunity stage from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__opportunity_stages plus `crm_source` after the key. Salesforce's rows as staged,
-- then HubSpot deal stages by label mapped in models/intermediate/crm/hubspot. Every model outside
-- staging reads this view instead of a vendor's staging model.
{%- set columns = [
    'opportunity_stage_id',
    'stage_name',
    'stage_label',
    'forecast_category',
    'sort_order',
    'default_probability',
    'is_active',
    'is_closed',
    'is_won',
    'created_at',
    'last_modified_at',
    '_delivery_date',
    '_file_path',
    '_row_number',
    '_loaded_at',
] %}

with

salesforce as (

    {{ crm_source_rows('stg_salesforce__opportunity_stages', columns, crm_source='salesforce') }}

),

hubspot as (

    {{ crm_source_rows('int_hubspot_opportunity_stages_mapped', columns) }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
