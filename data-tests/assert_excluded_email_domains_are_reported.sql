-- Warning: one row per object x excluded email domain that removed rows from the marts (mapping
-- excluded_email_domains): exclusion is right for test and internal addresses, silence is not.
-- Severity warn here as well as in _singular_tests.yml: dbt's partial parse drops a singular
-- test's YAML config when only its SQL changed, and this check must never block.
{{ config(severity='warn') }}
select
    object_name,
    email_domain,
    exclusion_reason,
    excluded_rows,
    object_rows
from {{ ref('data_quality_exclusions') }}
