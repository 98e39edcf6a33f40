-- One row per quarantined row and column: the delivered rows held back from the marts because
-- a value cannot be cast to its contract type or a required value is empty, and whether a
-- corrected version has released them, so that the report and the checks can name them.
with

quarantined as (

    select
        source_name,
        object_name,
        file_path,
        file_sha256,
        column_name,
        delivered_value,
        quarantine_rule,
        quarantine_message,
        key_value,
        released_by_file,
        row_number,
        line_number,
        is_released
    from {{ ref('stg_ingest__quarantined_values') }}

)

select * from quarantined
