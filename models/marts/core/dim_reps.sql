-- One row per CRM user (rep, manager or system user): name, title, sales role, team, team segment,
-- manager, whether still active and whether a rep (the rule in int_users_classified; queues
-- are not users and are not here). Emails are not published (personal data).
with

users as (

    select
        user_id,
        manager_id,
        user_name,
        department,
        title,
        sales_role,
        team,
        segment,
        is_rep,
        is_active,
        created_at
    from {{ ref('int_users_classified') }}

),

final as (

    select
        users.user_id as rep_id,
        users.manager_id,
        users.user_name as rep_name,
        managers.user_name as manager_name,
        users.department,
        users.title,
        users.sales_role,
        users.team,
        users.segment,
        users.is_rep,
        users.is_active,
        cast(users.created_at as date) as hired_date
    from users
    left join users as managers
        on users.manager_id = managers.user_id

)

select * from final
