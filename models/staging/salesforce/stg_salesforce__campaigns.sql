-- One row per Salesforce campaign: the latest version of each delivered campaign, deletes
-- flagged.
with

source as (

    select
        Id,
        Name,
        Type,
        Status,
        BudgetedCost,
        ActualCost,
        IsDeleted,
        StartDate,
        EndDate,
        CreatedDate,
        LastModifiedDate,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('salesforce', 'campaign') }}

),

renamed as (

    select
        Id as campaign_id,
        Name as campaign_name,
        Type as campaign_type,
        Status as campaign_status,
        -- The export contract states campaign costs in the corporate currency, USD.
        {{ try_cast('BudgetedCost', 'decimal(18, 2)') }} as budgeted_cost_usd,
        {{ try_cast('ActualCost', 'decimal(18, 2)') }} as actual_cost_usd,
        {{ try_cast('lower(trim(IsDeleted))', 'boolean') }} as is_deleted,
        {{ try_cast('StartDate', 'date') }} as start_date,
        {{ try_cast('EndDate', 'date') }} as end_date,
        {{ parse_utc_timestamp('CreatedDate') }} as created_at,
        {{ parse_utc_timestamp('LastModifiedDate') }} as last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('campaign_id', 'last_modified_at') }} as version_rank
    from renamed

),

final as (

    select
        campaign_id,
        campaign_name,
        campaign_type,
        campaign_status,
        budgeted_cost_usd,
        actual_cost_usd,
        is_deleted,
        start_date,
        end_date,
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
