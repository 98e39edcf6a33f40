{#-
    The rows each incremental write put into an intermediate model or mart (docs/SERVING.md,
    "Daily increments"), so that its data tests can check those rows only
    (macros/tests/test_scope.sql, revops/test_scope.py).

    Those models change only by an incremental write (dbt's `delete+insert` or `append` of the
    rows the run recomputed) and by their pre-hooks' deletes; a rebuild is a `--full-refresh`,
    which checks every row. Every incremental write of a model outside staging also records,
    in the same transaction, one row per distinct key it wrote: the model, the write's time
    and a 64-bit hash of the model's write key. The write key is the model's `unique_key`
    (`delete+insert`: every stored row of a written key was replaced), else the columns of its
    first `unique` / `unique_combination` test by id (`append`: each written row has its key
    recorded). A row whose key hash no write recorded since a test last passed is the very row
    that test passed on. Staging models need none of this: their rows carry `_loaded_at`.

    DuckDB only: on other adapters these models are plain tables and nothing is recorded.
-#}

{#- The table of written keys (created before any model runs: `on-run-start`). Its own
    schema, so that comparisons of the models' tables (`main`) never see it. -#}
{% macro rows_written_table() -%}
    _revops_log.rows_written
{%- endmacro %}


{% macro create_rows_written_log() %}
    {{- return(adapter.dispatch('create_rows_written_log', 'revops')()) -}}
{% endmacro %}

{% macro default__create_rows_written_log() -%}
{%- endmacro %}

{% macro duckdb__create_rows_written_log() -%}
    create schema if not exists _revops_log;
    create table if not exists {{ revops.rows_written_table() }} (
        model varchar not null,
        written_at timestamp with time zone not null,
        key_hash ubigint
    )
{%- endmacro %}


{#- The write key of the model being built (see above), a list of column expressions, or
    none. revops/test_scope.py `write_key` gives the same from the manifest. -#}
{% macro rows_written_key() %}
    {%- set unique_key = config.get('unique_key') -%}
    {%- if unique_key -%}
        {{ return([unique_key] if unique_key is string else unique_key | list) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
        {%- set metadata = node.get('test_metadata') or {} -%}
        {%- set kwargs = metadata.get('kwargs') or {} -%}
        {%- if node.resource_type == 'test' and node.get('attached_node') == model.unique_id -%}
            {%- if metadata.get('name') == 'unique' and kwargs.get('column_name') -%}
                {{ return([kwargs['column_name']]) }}
            {%- elif metadata.get('name') == 'unique_combination' and kwargs.get('columns') -%}
                {{ return(kwargs['columns'] | list) }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}


{#- The statement that records the keys an incremental write of `source` wrote (empty for a
    staging model or a model without a write key). -#}
{% macro rows_written_sql(source) -%}
    {%- set key = revops.rows_written_key() if model.fqn[1] != 'staging' else none -%}
    {%- if key -%}
    insert into {{ revops.rows_written_table() }}
    select distinct
        '{{ model.name }}' as model,
        current_timestamp as written_at,
        hash({{ key | join(', ') }}) as key_hash
    from {{ source }}
    {%- endif -%}
{%- endmacro %}


{#- dbt's incremental strategies on DuckDB, each followed by the record of what it wrote. -#}
{% macro duckdb__get_incremental_delete_insert_sql(arg_dict) -%}
    {%- set log = revops.rows_written_sql(arg_dict['temp_relation']) -%}
    {{- default__get_incremental_delete_insert_sql(arg_dict) -}}
    {%- if log %};
    {{ log }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__get_incremental_append_sql(arg_dict) -%}
    {%- set log = revops.rows_written_sql(arg_dict['temp_relation']) -%}
    {{- default__get_incremental_append_sql(arg_dict) -}}
    {%- if log %};
    {{ log }}
    {%- endif -%}
{%- endmacro %}
