-- One row per tracked field change on a Salesforce lead (append-only; re-sent rows removed).
--
-- Incremental (the funnel's stage events come from here): a run reads only raw rows loaded
-- after the newest `_loaded_at` already here and appends the changes not yet here. History rows
-- are never updated and the first loaded copy is kept, so this equals a full rebuild
-- (`--full-refresh` does one; needed after rows were removed from the raw table).
{{ config(**append_only_config()) }}

with

source as (

    select
        Id,
        LeadId,
        Field,
        OldValue,
        NewValue,
        CreatedDate,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('salesforce', 'leadhistory') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        Id as lead_history_id,
        LeadId as lead_id,
        Field as field_name,
        OldValue as old_value,
        NewValue as new_value,
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
        {{ first_loaded_copy_rank('lead_history_id') }} as copy_rank
    from renamed

),

final as (

    select
        lead_history_id,
        lead_id,
        field_name,
        old_value,
        new_value,
        changed_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where
        copy_rank = 1
        and {{ not_already_loaded('ranked', 'lead_history_id') }}

)

select * from final
