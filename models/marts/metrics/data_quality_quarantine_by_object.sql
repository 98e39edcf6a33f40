-- One row per source object that has loaded rows: its latest load (the latest ingestion run in
-- which the object read rows), with the rows read and quarantined in it and their share, which
-- the blocking check `assert_quarantine_share_below_threshold` compares with the settings.
-- Based on the latest load, not on the run: an unchanged warehouse gives the same outcome on
-- every run until a new delivery of the object loads.
with

file_loads as (

    select
        load_id,
        source_name,
        object_name,
        load_status,
        rows_read,
        rows_quarantined
    from {{ ref('stg_ingest__file_loads') }}

),

loaded as (

    select * from file_loads
    where load_status = 'loaded'

),

latest_loads as (

    select
        source_name,
        object_name,
        max(load_id) as load_id
    from loaded
    where rows_read > 0
    group by source_name, object_name

),

counted as (

    select
        latest_loads.source_name,
        latest_loads.object_name,
        latest_loads.load_id,
        cast(sum(loaded.rows_read) as bigint) as rows_read,
        -- null for a load from before the quarantine existed: not 0, it was not counted
        cast(sum(loaded.rows_quarantined) as bigint) as rows_quarantined
    from latest_loads
    inner join loaded
        on
            latest_loads.source_name = loaded.source_name
            and latest_loads.object_name = loaded.object_name
            and latest_loads.load_id = loaded.load_id
    group by latest_loads.source_name, latest_loads.object_name, latest_loads.load_id

),

final as (

    select
        source_name,
        object_name,
        load_id,
        rows_read,
        rows_quarantined,
        cast(rows_quarantined as double) / rows_read as quarantined_share
    from counted

)

select * from final
