-- HubSpot merge lists longer than the `hubspot_max_merged_ids` setting: the ids past it are
-- not read (those absorbed records stay separate). One row per such survivor with its list's
-- length; a warning, never blocking.
{%- set max_ids = setting('hubspot_max_merged_ids') | int %}
with

merge_lists as (

    select
        'contact' as object_type,
        contact_id as surviving_id,
        merged_contact_ids as merged_ids
    from {{ ref('stg_hubspot__contacts') }}
    union all
    select
        'company' as object_type,
        company_id as surviving_id,
        merged_company_ids as merged_ids
    from {{ ref('stg_hubspot__companies') }}
    union all
    select
        'deal' as object_type,
        deal_id as surviving_id,
        merged_deal_ids as merged_ids
    from {{ ref('stg_hubspot__deals') }}

),

measured as (

    select
        object_type,
        surviving_id,
        {{ dbt.length('merged_ids') }}
        - {{ dbt.length(dbt.replace('merged_ids', "';'", "''")) }} + 1 as listed_ids
    from merge_lists
    where merged_ids is not null

)

select * from measured
where listed_ids > {{ max_ids }}
