-- One row per attempt at one delivery file (raw._load_ledger): what was read, loaded,
-- rejected and quarantined.
with

source as (

    select
        load_id,
        source,
        object,
        file_path,
        file_sha256,
        status,
        rows_read,
        rows_loaded,
        rows_rejected,
        rows_quarantined,
        finished_at
    from {{ source('ingest', 'load_ledger') }}

),

renamed as (

    select
        load_id,
        source as source_name,
        object as object_name,
        file_path,
        file_sha256,
        status as load_status,
        rows_read,
        rows_loaded,
        rows_rejected,
        rows_quarantined,
        finished_at
    from source

)

select * from renamed
