{#-
    The relation a model reads an org mapping from (`lead_status_stages`,
    `opportunity_stages`, ...): `stg_settings__<seed>`, the mapping seed with the vendors'
    defaults merged with the org's override rows from the settings file ($REVOPS_SETTINGS,
    docs/CONFIGURATION.md). Every model reads mappings through this macro, never with a bare
    ref() of the seed, so that overrides reach them all. A unit test of such a model gives
    `ref('stg_settings__<seed>')` as its input.
-#}
{% macro org_mapping(seed_name) %}
    {{ return(ref('stg_settings__' ~ seed_name)) }}
{% endmacro %}

{#-
    The body of `stg_settings__<seed>`: the seed's rows, with each row whose key (the seed's
    first column) the org overrides replaced by the override row, plus the org's new keys.
    Override rows come from `raw.settings__<seed>` (all text, written by revops before each
    refresh) and are cast to the seed's column types. A warehouse without that table (a plain
    `dbt build` before any refresh) has no overrides: the seed's rows as they are.
-#}
{% macro merge_org_mapping(seed_name) %}
    {%- set seed = ref(seed_name) -%}
    {%- set overrides = source('settings', seed_name) -%}
    {%- set columns = [] -%}
    {%- set has_overrides = false -%}
    {%- if execute -%}
        {%- set columns = adapter.get_columns_in_relation(seed) -%}
        {%- set has_overrides = adapter.get_relation(
            database=overrides.database,
            schema=overrides.schema,
            identifier=overrides.identifier,
        ) is not none -%}
    {%- endif -%}
    {%- if columns | length == 0 %}
select * from {{ seed }}
    {%- else -%}
    {%- set key = columns[0].name %}
with

seed_rows as (
    select
        {%- for column in columns %}
        {{ adapter.quote(column.name) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ seed }}
),

override_rows as (
    {%- if has_overrides %}
    select
        {%- for column in columns %}
        cast({{ adapter.quote(column.name) }} as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ overrides }}
    {%- else %}
    select
        {%- for column in columns %}
        {{ adapter.quote(column.name) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from seed_rows
    where 1 = 0
    {%- endif %}
),

kept_seed_rows as (
    select seed_rows.*
    from seed_rows
    left join override_rows
        on seed_rows.{{ adapter.quote(key) }} = override_rows.{{ adapter.quote(key) }}
    where override_rows.{{ adapter.quote(key) }} is null
),

merged as (
    select * from override_rows
    union all
    select * from kept_seed_rows
)

select * from merged
    {%- endif -%}
{% endmacro %}
