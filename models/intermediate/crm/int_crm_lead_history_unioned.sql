-- One row per CRM lead history row from every CRM source (vendor-neutral): the columns of
-- stg_salesforce__lead_history plus `crm_source` after the key. Every model outside staging reads
-- this view instead of a vendor's staging model.
with

salesforce as (

    select
        lead_history_id,
        'salesforce' as crm_source,
        lead_id,
        field_name,
        old_value,
        new_value,
        changed_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('stg_salesforce__lead_history') }}

),

final as (

    select * from salesforce

)

select * from final
