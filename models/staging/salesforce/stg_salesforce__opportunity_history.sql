-- One row per change of stage, amount or close date on a Salesforce opportunity (append-only;
-- re-sent rows removed).
--
-- Incremental: a run appends the changes loaded since the last run that are not already here
-- (macros/staging/incremental_staging.sql); the first loaded copy of a row is kept, as in a
-- rebuild.
{{ config(**append_only_config()) }}

with

source as (

    select
        Id,
        OpportunityId,
        StageName,
        Amount,
        Probability,
        CloseDate,
        CreatedDate,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('salesforce', 'opportunityhistory') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        Id as opportunity_history_id,
        OpportunityId as opportunity_id,
        StageName as stage_name,
        {{ try_cast('Amount', 'decimal(18, 2)') }} as amount,
        {{ try_cast('Probability', 'decimal(5, 2)') }} as probability,
        {{ try_cast('CloseDate', 'date') }} as close_date,
        {{ parse_utc_timestamp('CreatedDate') }} as changed_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    -- Rows are never updated: a re-sent row is a duplicate, so the first loaded copy stays
    -- (the earliest delivery among copies loaded together).
    select
        *,
        {{ first_loaded_copy_rank('opportunity_history_id') }} as copy_rank
    from renamed

),

final as (

    select
        opportunity_history_id,
        opportunity_id,
        stage_name,
        amount,
        probability,
        close_date,
        changed_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where
        copy_rank = 1
        and {{ not_already_loaded('ranked', 'opportunity_history_id') }}

)

select * from final
