{#-
    Incremental staging: a run reads only the raw rows loaded since the last run and merges
    them into the table, with the same result as a rebuild (docs/BENCHMARKS.md, "Daily
    increment"). Two kinds of staging model use them:

    * latest version per key (leads, opportunities, invoices, ...): the new versions of a key
      and the version already in the table are ranked together; the winner replaces the
      key's row (`delete+insert` on `unique_key`). The version already there beat every
      older version, so the winner is the one a rebuild over all rows would pick.
    * append-only rows (field histories, activities): a row is never updated, the first
      loaded copy of an id stays, and copies already in the table are skipped (`append`).

    The watermark is `_loaded_at`, the load time the ingestion stamps on every raw row: rows
    from later loads always carry later times. A rebuild (`dbt build --full-refresh`, or
    `revops refresh --full-refresh`) is needed only after raw rows were removed by hand.
-#}

{#- The materialization of a latest-version staging model: incremental where the adapter
    has delete+insert (DuckDB); a table elsewhere (Spark without Delta has no delete). -#}
{% macro latest_version_materialization() %}
    {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{% endmacro %}


{#- `where` clause of a model's source CTE: on an incremental run, only the rows loaded after
    the newest already in the table (every row when the table is still empty). -#}
{% macro loaded_since_last_run() %}
    {%- if is_incremental() -%}
    where _loaded_at > (
        select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) from {{ this }}
    )
    {%- endif -%}
{% endmacro %}


{#- A latest-version model's candidates: the versions in `relation` (a CTE with the model's
    final columns) and, on an incremental run, the row already in the table for each key
    among them (columns matched by name). -#}
{% macro with_current_versions(relation, key) %}
    select * from {{ relation }}
    {%- if is_incremental() %}
    {{ revops.union_all_by_name() }}
    select * from {{ this }} as current_versions
    where current_versions.{{ key }} in (select {{ key }} from {{ relation }})
    {%- endif -%}
{% endmacro %}


{#- Condition of an append-only model's final CTE, `and {{ not_already_loaded(...) }}`: on
    an incremental run, the ids not already in the table (a re-sent row loaded again later is
    skipped); on a full build, `true`. -#}
{% macro not_already_loaded(relation, key) %}
    {%- if is_incremental() -%}
        not exists (
            select 1 from {{ this }} as existing
            where existing.{{ key }} = {{ relation }}.{{ key }}
        )
    {%- else -%}
        true
    {%- endif -%}
{% endmacro %}


{#- The config of a latest-version staging model keyed on `key`:
    `{{ config(**latest_version_config('lead_id')) }}`. -#}
{% macro latest_version_config(key) %}
    {{ return({
        'materialized': latest_version_materialization(),
        'incremental_strategy': 'delete+insert',
        'unique_key': key,
        'on_schema_change': 'fail',
    }) }}
{% endmacro %}


{#- The config of an append-only staging model: `{{ config(**append_only_config()) }}`.
    Appending works on every adapter, Spark included. -#}
{% macro append_only_config() %}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'fail',
    }) }}
{% endmacro %}


{#- The rank of each version of a key, 1 for the latest: `{{ latest_version_rank('lead_id',
    'last_modified_at') }} as version_rank`, then `where version_rank = 1`. `key` is a column
    or a list of columns. The latest delivery wins (`_delivery_date`); within one delivery,
    the row later in the later file (`_file_path`, `_row_number`), then the later load.
    `version_column` (the source's own modification time, nulls lowest) ranks before the
    delivery, or, with `delivery_first=true`, right after it: a metadata export (picklists)
    delivers the whole list, so its latest delivery is the current list. -#}
{% macro latest_version_rank(key, version_column=none, delivery_first=false) -%}
    {%- set partition_columns = [key] if key is string else key -%}
    {%- set by_version = [version_column ~ ' desc nulls last'] if version_column else [] -%}
    {%- set by_delivery = ['_delivery_date desc'] -%}
    {%- set by_position = ['_file_path desc', '_row_number desc', '_loaded_at desc'] -%}
    {%- if delivery_first -%}
        {%- set order_columns = by_delivery + by_version + by_position -%}
    {%- else -%}
        {%- set order_columns = by_version + by_delivery + by_position -%}
    {%- endif -%}
    row_number() over (
        partition by {{ partition_columns | join(', ') }}
        order by
            {%- for column in order_columns %}
            {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
    )
{%- endmacro %}


{#- The rank of each loaded copy of an append-only row, 1 for the first loaded:
    `{{ first_loaded_copy_rank('activity_id') }} as copy_rank`, then `where copy_rank = 1`. -#}
{% macro first_loaded_copy_rank(key) -%}
    row_number() over (
        partition by {{ key }}
        order by
            _loaded_at asc,
            _delivery_date asc,
            _file_path asc,
            _row_number asc
    )
{%- endmacro %}
