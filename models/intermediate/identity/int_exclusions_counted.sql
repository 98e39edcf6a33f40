-- One row per object (leads, contacts, customers) x excluded email domain that removed at least
-- one of its rows: how many rows of the object the mapping `excluded_email_domains` removes
-- (test and internal addresses), out of how many. Deleted rows are not counted on either side.
with

excluded_domains as (

    select
        email_domain,
        reason
    from {{ org_mapping('excluded_email_domains') }}

),

leads as (

    select email_domain
    from {{ ref('int_crm_leads_unioned') }}
    where not coalesce(is_deleted, false)

),

contacts as (

    select email_domain
    from {{ ref('int_crm_contacts_unioned') }}
    where not coalesce(is_deleted, false)

),

customers as (

    select email_domain
    from {{ ref('stg_stripe__customers') }}
    where not coalesce(is_deleted, false)

),

object_rows as (

    select
        'leads' as object_name,
        email_domain
    from leads
    union all
    select
        'contacts' as object_name,
        email_domain
    from contacts
    union all
    select
        'customers' as object_name,
        email_domain
    from customers

),

object_totals as (

    select
        object_rows.object_name,
        count(*) as object_rows,
        sum(case when excluded_domains.email_domain is not null then 1 else 0 end)
            as object_excluded_rows
    from object_rows
    left join excluded_domains
        on object_rows.email_domain = excluded_domains.email_domain
    group by object_rows.object_name

),

domain_counts as (

    select
        object_rows.object_name,
        excluded_domains.email_domain,
        excluded_domains.reason,
        count(*) as excluded_rows
    from object_rows
    inner join excluded_domains
        on object_rows.email_domain = excluded_domains.email_domain
    group by
        object_rows.object_name,
        excluded_domains.email_domain,
        excluded_domains.reason

),

final as (

    select
        domain_counts.object_name,
        domain_counts.email_domain,
        domain_counts.reason as exclusion_reason,
        cast(domain_counts.excluded_rows as bigint) as excluded_rows,
        cast(object_totals.object_excluded_rows as bigint) as object_excluded_rows,
        cast(object_totals.object_rows as bigint) as object_rows,
        cast(domain_counts.excluded_rows as double) / object_totals.object_rows
            as excluded_share,
        cast(object_totals.object_excluded_rows as double) / object_totals.object_rows
            as object_excluded_share
    from domain_counts
    inner join object_totals
        on domain_counts.object_name = object_totals.object_name

)

select * from final
