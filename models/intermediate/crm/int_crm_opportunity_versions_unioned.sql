-- One row per CRM opportunity version from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__opportunity_versions plus `crm_source` after the key. Salesforce's rows as
-- staged, then HubSpot deal versions mapped in models/intermediate/crm/hubspot. Every model
-- outside staging reads this view instead of a vendor's staging model.
{%- set columns = [
    'opportunity_version_id',
    'opportunity_id',
    'account_id',
    'owner_id',
    'opportunity_type',
    'stage_name',
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

    {{ crm_source_rows('stg_salesforce__opportunity_versions', columns, crm_source='salesforce') }}

),

hubspot as (

    {{ crm_source_rows('int_hubspot_opportunity_versions_mapped', columns) }}

),

final as (

    select * from salesforce
    union all
    select * from hubspot

)

select * from final
