-- One row per CRM user who can own leads, accounts or opportunities: name, role, team segment,
-- manager and whether still active. Emails are not published (personal data).
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

final as (

    select
        users.user_id as rep_id,
        users.manager_id,
        users.user_name as rep_name,
        managers.user_name as manager_name,
        users.department,
        users.title,
        users.segment,
        users.is_active,
        cast(users.created_at as date) as hired_date
    from users
    left join users as managers
        on users.manager_id = managers.user_id

)

select * from final
