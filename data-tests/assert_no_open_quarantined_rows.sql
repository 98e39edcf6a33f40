-- Warning: one row per quarantined row and column that no corrected version has released yet,
-- naming the file, the row and the column (revops/checks.py shows them as samples). The row is
-- in no mart until a delivery with the same key, or a new version of the file, arrives.
-- Severity warn here as well as in _singular_tests.yml (partial parse may drop the YAML config).
{{ config(severity='warn') }}
select
    file_path,
    row_number,
    column_name,
    delivered_value,
    quarantine_rule,
    object_name
from {{ ref('data_quality_quarantine') }}
where not is_released
