-- One row per Salesforce opportunity stage (OpportunityStage metadata export, optional): the
-- latest delivered version of each stage. Empty when the org never delivered the export.
with

source as (

    select
        Id,
        MasterLabel,
        ApiName,
        IsActive,
        SortOrder,
        IsClosed,
        IsWon,
        DefaultProbability,
        ForecastCategoryName,
        CreatedDate,
        LastModifiedDate,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('salesforce', 'opportunitystage') }}

),

renamed as (

    select
        Id as opportunity_stage_id,
        -- Opportunity.StageName holds the API name (the label unless the stage was renamed).
        coalesce(nullif(trim(ApiName), ''), MasterLabel) as stage_name,
        MasterLabel as stage_label,
        ForecastCategoryName as forecast_category,
        {{ try_cast('SortOrder', 'bigint') }} as sort_order,
        {{ try_cast('DefaultProbability', 'decimal(5, 2)') }} as default_probability,
        {{ try_cast('lower(trim(IsActive))', 'boolean') }} as is_active,
        {{ try_cast('lower(trim(IsClosed))', 'boolean') }} as is_closed,
        {{ try_cast('lower(trim(IsWon))', 'boolean') }} as is_won,
        {{ parse_utc_timestamp('CreatedDate') }} as created_at,
        {{ parse_utc_timestamp('LastModifiedDate') }} as last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    -- The row in the latest delivery wins, then the later LastModifiedDate (the export is
    -- the whole picklist or the stages changed that day, and LastModifiedDate is optional).
    select
        *,
        {{ latest_version_rank(
            'opportunity_stage_id', 'last_modified_at', delivery_first=true
        ) }} as version_rank
    from renamed

),

final as (

    select
        opportunity_stage_id,
        stage_name,
        stage_label,
        forecast_category,
        sort_order,
        default_probability,
        is_active,
        is_closed,
        is_won,
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
