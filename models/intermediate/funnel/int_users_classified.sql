-- One row per CRM user: sales role and team from the mapping seed rep_roles (title matched
-- trimmed and case-insensitively), how many leads and opportunities they own, and whether they
-- are a rep. The rep rule: the title's `is_rep` when the seed sets it (true: always, false: never);
-- otherwise (empty, or title not mapped) a user is a rep when they own a lead or an
-- opportunity that is not deleted. Queues are not users, so never reps.
with

users as (

    select
        user_id,
        manager_id,
        user_name,
        department,
        title,
        segment,
        is_active,
        created_at
    from {{ ref('stg_salesforce__users') }}

),

roles as (

    select
        lower(trim(role_map.title)) as title_key,
        role_map.sales_role,
        role_map.is_rep,
        role_map.team
    from {{ org_mapping('rep_roles') }} as role_map

),

lead_owners as (

    select
        owner_id,
        count(*) as leads_owned
    from {{ ref('stg_salesforce__leads') }}
    where not is_deleted and owner_type = 'user'
    group by owner_id

),

opportunity_owners as (

    select
        owner_id,
        count(*) as opportunities_owned
    from {{ ref('stg_salesforce__opportunities') }}
    where not is_deleted and owner_type = 'user'
    group by owner_id

),

final as (

    select
        users.user_id,
        users.manager_id,
        users.user_name,
        users.department,
        users.title,
        users.segment,
        coalesce(roles.sales_role, 'other') as sales_role,
        coalesce(roles.team, users.department) as team,
        coalesce(lead_owners.leads_owned, 0) as leads_owned,
        coalesce(opportunity_owners.opportunities_owned, 0) as opportunities_owned,
        coalesce(
            roles.is_rep,
            lead_owners.owner_id is not null or opportunity_owners.owner_id is not null
        ) as is_rep,
        roles.title_key is not null as is_title_mapped,
        lead_owners.owner_id is not null
        or opportunity_owners.owner_id is not null as owns_records,
        users.is_active,
        users.created_at
    from users
    left join roles
        on lower(trim(users.title)) = roles.title_key
    left join lead_owners
        on users.user_id = lead_owners.owner_id
    left join opportunity_owners
        on users.user_id = opportunity_owners.owner_id

)

select * from final
