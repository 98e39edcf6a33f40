-- Warning: one row per object (leads, contacts, customers) of which the excluded email domains
-- remove more than the `exclusion_warn_share` setting (default 20%): a placeholder address
-- common in an export can silently empty the marts.
-- Severity warn here as well as in _singular_tests.yml: dbt's partial parse drops a singular
-- test's YAML config when only its SQL changed, and this check must never block.
{{ config(severity='warn') }}
{%- set warn_share = numeric_setting('exclusion_warn_share') %}
select distinct
    object_name,
    object_excluded_rows,
    object_rows,
    object_excluded_share,
    {{ warn_share }} as exclusion_warn_share
from {{ ref('data_quality_exclusions') }}
where object_excluded_share > {{ warn_share }}
