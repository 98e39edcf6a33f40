-- One row per HubSpot record absorbed by a merge: the object type (`contact`, `company`,
-- `deal`), the absorbed id and the surviving record that lists it in `hs_merged_object_ids`.
-- An absorbed record is not sent again after the merge, but its earlier versions stay in
-- staging: the mapping drops it and points its references at the survivor. A list longer than
-- the `hubspot_max_merged_ids` setting is cut there and counted by the test on this model.
{%- set max_ids = setting('hubspot_max_merged_ids') | int %}
with

merge_lists as (

    select
        'contact' as object_type,
        contact_id as surviving_id,
        merged_contact_ids as merged_ids
    from {{ ref('stg_hubspot__contacts') }}
    where merged_contact_ids is not null
    union all
    select
        'company' as object_type,
        company_id as surviving_id,
        merged_company_ids as merged_ids
    from {{ ref('stg_hubspot__companies') }}
    where merged_company_ids is not null
    union all
    select
        'deal' as object_type,
        deal_id as surviving_id,
        merged_deal_ids as merged_ids
    from {{ ref('stg_hubspot__deals') }}
    where merged_deal_ids is not null

),

positions as (

    {{ dbt.generate_series(max_ids) }}

),

split_ids as (

    select
        merge_lists.object_type,
        merge_lists.surviving_id,
        -- split_part itself, not dbt.split_part: dbt-spark's macro takes only a literal part
        -- number; DuckDB and Spark (3.3+) both take a column and give '' past the last part.
        trim(split_part(merge_lists.merged_ids, ';', positions.generated_number)) as merged_id
    from merge_lists
    cross join positions

),

final as (

    -- A record is absorbed once; should two survivors list it, the later id wins.
    select
        object_type,
        merged_id,
        max(surviving_id) as surviving_id
    from split_ids
    where merged_id is not null and merged_id != '' and merged_id != surviving_id
    group by object_type, merged_id

)

select * from final
