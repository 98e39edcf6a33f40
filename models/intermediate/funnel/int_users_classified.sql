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
    from {{ ref('int_crm_users_unioned') }}

),

roles as (

    select
        role_map.title,
        role_map.sales_role,
        role_map.is_rep,
        role_map.team
    from {{ org_mapping('rep_roles') }} as role_map

),

title_matches as (

    -- Titles match trimmed and case-insensitively. When several mapping rows match (an org
    -- override that differs from a seed row only by case), the one equal after trimming wins,
    -- then the first title in sort order: one row per user.
    select
        users.user_id,
        roles.sales_role,
        roles.is_rep,
        roles.team,
        row_number() over (
            partition by users.user_id
            order by
                case when trim(users.title) = trim(roles.title) then 0 else 1 end,
                roles.title
        ) as match_rank
    from users
    inner join roles
        on lower(trim(users.title)) = lower(trim(roles.title))

),

user_roles as (

    select
        user_id,
        sales_role,
        is_rep,
        team
    from title_matches
    where match_rank = 1

),

lead_owners as (

    select
        owner_id,
        count(*) as leads_owned
    from {{ ref('int_crm_leads_unioned') }}
    where not is_deleted and owner_type = 'user'
    group by owner_id

),

opportunity_owners as (

    select
        owner_id,
        count(*) as opportunities_owned
    from {{ ref('int_crm_opportunities_unioned') }}
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
        coalesce(user_roles.sales_role, 'other') as sales_role,
        coalesce(user_roles.team, users.department) as team,
        coalesce(lead_owners.leads_owned, 0) as leads_owned,
        coalesce(opportunity_owners.opportunities_owned, 0) as opportunities_owned,
        coalesce(
            user_roles.is_rep,
            lead_owners.owner_id is not null or opportunity_owners.owner_id is not null
        ) as is_rep,
        user_roles.user_id is not null as is_title_mapped,
        lead_owners.owner_id is not null
        or opportunity_owners.owner_id is not null as owns_records,
        users.is_active,
        users.created_at
    from users
    left join user_roles
        on users.user_id = user_roles.user_id
    left join lead_owners
        on users.user_id = lead_owners.owner_id
    left join opportunity_owners
        on users.user_id = opportunity_owners.owner_id

)

select * from final
