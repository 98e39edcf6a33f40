-- One row per object (leads, contacts, customers) x excluded email domain that removed at least
-- one row: the rows the mapping `excluded_email_domains` removes from every mart, and their
-- share of the object, so that the report can show what was left out.
with

exclusions as (

    select * from {{ ref('int_exclusions_counted') }}

),

final as (

    select
        object_name,
        email_domain,
        exclusion_reason,
        excluded_rows,
        object_excluded_rows,
        object_rows,
        excluded_share,
        object_excluded_share
    from exclusions

)

select * from final
