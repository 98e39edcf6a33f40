-- One row per Salesforce opportunity: the latest version of each delivered opportunity,
-- deletes flagged.
--
-- Incremental on DuckDB: the latest version of each key is merged in from the rows loaded
-- since the last run (macros/staging/incremental_staging.sql).
{{ config(**latest_version_config('opportunity_id')) }}

with

source as (

    select
        Id,
        AccountId,
        OwnerId,
        CampaignId,
        Name,
        Type,
        StageName,
        ForecastCategoryName,
        LeadSource,
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
        {{ salesforce_owner_type('OwnerId') }} as owner_type,
        CampaignId as campaign_id,
        Name as opportunity_name,
        Type as opportunity_type,
        StageName as stage_name,
        ForecastCategoryName as forecast_category,
        LeadSource as lead_source,
        {{ salesforce_opportunity_state_fields() }}
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

candidates as (

    {{ with_current_versions('renamed', 'opportunity_id') }}

),

ranked as (

    select
        *,
        {{ latest_version_rank('opportunity_id', 'last_modified_at') }} as version_rank
    from candidates

),

final as (

    select
        opportunity_id,
        account_id,
        owner_id,
        owner_type,
        campaign_id,
        opportunity_name,
        opportunity_type,
        stage_name,
        forecast_category,
        lead_source,
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
    where version_rank = 1

)

select * from final
