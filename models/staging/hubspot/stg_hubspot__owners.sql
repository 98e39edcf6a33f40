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
        trim(source.id) as owner_id,
        nullif(trim(source.userId), '') as user_id,
        {{ normalize_email('source.email') }} as email,
        {{ email_domain('source.email') }} as email_domain,
        nullif(trim(source.firstName), '') as first_name,
        nullif(trim(source.lastName), '') as last_name,
        nullif(
            trim(
                concat(coalesce(trim(source.firstName), ''), ' ', coalesce(trim(source.lastName), ''))
            ),
            ''
        ) as owner_name,
        primary_teams.team_name as primary_team_name,
        coalesce({{ hubspot_boolean('source.archived') }}, false) as is_archived,
        {{ hubspot_timestamp('source.createdAt') }} as created_at,
        {{ hubspot_timestamp('source.updatedAt') }} as last_modified_at,
        source._delivery_date,
        source._file_path,
        source._row_number,
        source._loaded_at
    from source
    left join primary_teams
        on
            source._file_path = primary_teams._file_path
            and source._row_number = primary_teams._row_number
            and source._loaded_at = primary_teams._loaded_at

),

candidates as (

    {{ with_current_versions('renamed', 'owner_id') }}

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
