-- HubSpot records absorbed by a merge whose delivered rows the mapping drops: one row per
-- absorbed contact, company or deal still in staging, with the survivor that now stands for it
-- (its references point there). A warning that counts what the merges removed, never blocking.
with

merged as (

    select
        object_type,
        merged_id,
        surviving_id
    from {{ ref('int_hubspot_merged_records') }}

),

staged as (

    select
        'contact' as object_type,
        contact_id as record_id
    from {{ ref('stg_hubspot__contacts') }}
    union all
    select
        'company' as object_type,
        company_id as record_id
    from {{ ref('stg_hubspot__companies') }}
    union all
    select
        'deal' as object_type,
        deal_id as record_id
    from {{ ref('stg_hubspot__deals') }}

),

final as (

    select
        merged.object_type,
        merged.merged_id,
        merged.surviving_id
    from merged
    inner join staged
        on
            merged.object_type = staged.object_type
            and merged.merged_id = staged.record_id

)

select * from final
