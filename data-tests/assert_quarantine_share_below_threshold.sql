-- Blocking: one row per object whose latest load quarantined at least `quarantine_block_min_rows`
-- rows and more than `quarantine_block_share` of the rows it read. A few bad cells are held back
-- and the run publishes; this many points at a systemic break (a changed export, a new date
-- format), and nothing is published until a corrected delivery loads.
{%- set block_share = numeric_setting('quarantine_block_share') %}
{%- set min_rows = numeric_setting('quarantine_block_min_rows', whole=true) %}
select
    source_name,
    object_name,
    load_id,
    rows_read,
    rows_quarantined,
    quarantined_share,
    {{ block_share }} as quarantine_block_share,
    {{ min_rows }} as quarantine_block_min_rows
from {{ ref('data_quality_quarantine_by_object') }}
where
    rows_quarantined >= {{ min_rows }}
    and quarantined_share > {{ block_share }}
