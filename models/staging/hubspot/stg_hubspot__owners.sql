-- One row per HubSpot owner (the users records are assigned to): the version in the latest
-- daily snapshot. The primary team's name plays the part of a Salesforce user's title (the
-- `rep_roles` mapping reads it).
--
-- Incremental on DuckDB: the latest version of each key is merged in from the rows loaded
-- since the last run (macros/staging/incremental_staging.sql).
{{ config(**latest_version_config('owner_id')) }}

with

source as (

    select
        id,
        email,
        firstName,
        lastName,
        userId,
        teams,
        createdAt,
        updatedAt,
        archived,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('hubspot', 'owners') }}
    {{ loaded_since_last_run() }}

),

teams as (

    select
        _file_path,
        _row_number,
        _loaded_at,
        {{ json_array_elements('teams', 'team_index', 'team_json') }}
    from source

),

primary_teams as (

    -- the team flagged primary, else the first listed
    select
        _file_path,
        _row_number,
        _loaded_at,
        team_name
    from (
        select
            _file_path,
            _row_number,
            _loaded_at,
            nullif(trim({{ json_extract_text('team_json', '$.name') }}), '') as team_name,
            row_number() over (
                partition by _file_path, _row_number, _loaded_at
                order by
                    case
                        when lower({{ json_extract_text('team_json', '$.primary') }}) = 'true'
                            then 0
                        else 1
                    end,
                    team_index
            ) as team_rank
        from teams
    ) as ranked_teams
    where team_rank = 1

),

renamed as (

    select
        trim(id) as owner_id,
        -- a JSON number; kept as text like every id
        cast({{ try_cast('userId', 'bigint') }} as {{ dbt.type_string() }}) as user_id,
        {{ normalize_email('email') }} as email,
        {{ email_domain('email') }} as email_domain,
        nullif(trim(firstName), '') as first_name,
        nullif(trim(lastName), '') as last_name,
        nullif(
            trim(concat(coalesce(trim(firstName), ''), ' ', coalesce(trim(lastName), ''))), ''
        ) as owner_name,
        coalesce({{ try_cast('lower(trim(archived))', 'boolean') }}, false) as is_archived,
        {{ parse_utc_timestamp('createdAt') }} as created_at,
        {{ parse_utc_timestamp('updatedAt') }} as last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

with_teams as (

    select
        renamed.owner_id,
        renamed.user_id,
        renamed.email,
        renamed.email_domain,
        renamed.first_name,
        renamed.last_name,
        renamed.owner_name,
        primary_teams.team_name as primary_team_name,
        renamed.is_archived,
        renamed.created_at,
        renamed.last_modified_at,
        renamed._delivery_date,
        renamed._file_path,
        renamed._row_number,
        renamed._loaded_at
    from renamed
    left join primary_teams
        on
            renamed._file_path = primary_teams._file_path
            and renamed._row_number = primary_teams._row_number
            and renamed._loaded_at = primary_teams._loaded_at

),

candidates as (

    {{ with_current_versions('with_teams', 'owner_id') }}

),

ranked as (

    -- a full snapshot: the latest delivery is the current list
    select
        *,
        {{ latest_version_rank('owner_id', 'last_modified_at', delivery_first=true) }}
            as version_rank
    from candidates

),

final as (

    select
        owner_id,
        user_id,
        email,
        email_domain,
        first_name,
        last_name,
        owner_name,
        primary_team_name,
        is_archived,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
