-- One row per delivered version of a Salesforce opportunity (every state it was exported in,
-- not only the latest): the point-in-time pipeline (fct_pipeline_snapshots) reads the fields
-- OpportunityHistory does not carry (currency, owner, account, type, deletion) as of a day.
--
-- Incremental: a run appends the versions loaded since the last run that are not already here
-- (macros/staging/incremental_staging.sql); the first loaded copy of a version is kept, as in
-- a rebuild. A version is an opportunity at one LastModifiedDate.
{{ config(**append_only_config()) }}

with

source as (

    select
        Id,
        AccountId,
        OwnerId,
        Type,
        StageName,
        CurrencyIsoCode,
        Amount,
        Probability,
        IsClosed,
        IsWon,
        IsDeleted,
        CloseDate,
        CreatedDate,
        LastModifiedDate,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('salesforce', 'opportunity') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        Id as opportunity_id,
        AccountId as account_id,
        OwnerId as owner_id,
        Type as opportunity_type,
        StageName as stage_name,
        {{ salesforce_opportunity_state_fields() }}
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

keyed as (

    select
        {{ surrogate_key(['opportunity_id', 'last_modified_at']) }} as opportunity_version_id,
        *
    from renamed

),

ranked as (

    -- A re-sent or duplicated row is the same version: the first loaded copy stays.
    select
        *,
        {{ first_loaded_copy_rank('opportunity_version_id') }} as copy_rank
    from keyed

),

final as (

    select
        opportunity_version_id,
        opportunity_id,
        account_id,
        owner_id,
        opportunity_type,
        stage_name,
        currency,
        amount,
        probability,
        is_closed,
        is_won,
        is_deleted,
        close_date,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where
        copy_rank = 1
        and {{ not_already_loaded('ranked', 'opportunity_version_id') }}

)

select * from final
