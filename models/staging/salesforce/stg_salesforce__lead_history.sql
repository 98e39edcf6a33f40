-- One row per tracked field change on a Salesforce lead (append-only; re-sent rows removed).
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

    -- Rows are never updated: a re-sent row is a duplicate, so the first delivered copy stays.
    select
        *,
        row_number() over (
            partition by lead_history_id
            order by
                _delivery_date asc,
                _file_path asc,
                _row_number asc,
                _loaded_at asc
        ) as copy_rank
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
    where copy_rank = 1

)

select * from final
