-- One row per quarantined row and failing column (raw._quarantine): the value, the rule it
-- failed, and whether a corrected version has released the row since.
with

source as (

    select
        load_id,
        source,
        object,
        raw_table,
        file_path,
        file_sha256,
        row_number,
        line_number,
        column_name,
        value,
        rule,
        message,
        key_value,
        row_json,
        quarantined_at,
        released_at,
        released_by_file
    from {{ source('ingest', 'quarantine') }}

),

renamed as (

    select
        load_id,
        source as source_name,
        object as object_name,
        raw_table,
        file_path,
        file_sha256,
        column_name,
        value as delivered_value,
        rule as quarantine_rule,
        message as quarantine_message,
        key_value,
        row_json,
        released_by_file,
        row_number,
        line_number,
        released_at is not null as is_released,
        quarantined_at,
        released_at
    from source

)

select * from renamed
