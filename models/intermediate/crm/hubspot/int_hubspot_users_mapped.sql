-- One row per HubSpot owner in the shape of a CRM user (int_crm_users_unioned): user_id =
-- owner id, title = the owner's primary team name (read by the rep_roles mapping), active
-- unless archived. HubSpot exports no manager, department or segment: they are null.
with

owners as (

    select
        owner_id,
        owner_name,
        email,
        email_domain,
        primary_team_name,
        is_archived,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('stg_hubspot__owners') }}

),

final as (

    select
        owner_id as user_id,
        'hubspot' as crm_source,
        cast(null as {{ dbt.type_string() }}) as manager_id,
        owner_name as user_name,
        email,
        email_domain,
        cast(null as {{ dbt.type_string() }}) as department,
        primary_team_name as title,
        cast(null as {{ dbt.type_string() }}) as segment,
        not is_archived as is_active,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from owners

)

select * from final
