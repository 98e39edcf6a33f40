{#-
    On Spark, the dbt sources are the Parquet export of the raw layer (revops.ingest.parquet:
    one folder per raw table under `raw_parquet_root`). Run at the start of every dbt command
    (`on-run-start` in dbt_project.yml), this (re)creates one external table per source, plus
    the load ledger and the rejects, so that each run reads the latest export with its current
    columns. Dropping an external table never deletes its files. On DuckDB the sources are the
    warehouse's own raw tables and this does nothing.
-#}
{% macro register_raw_parquet() %}
    {{- return(adapter.dispatch('register_raw_parquet', 'revops')()) -}}
{% endmacro %}

{% macro default__register_raw_parquet() -%}
{%- endmacro %}

{% macro spark__register_raw_parquet() -%}
    {%- if execute -%}
        {%- set root = var('raw_parquet_root', env_var('REVOPS_RAW_PARQUET', 'data/raw_parquet')) | replace('\\', '/') -%}
        {%- set tables = {} -%}
        {%- for src in graph.sources.values() -%}
            {%- do tables.update({(src.schema, src.identifier): none}) -%}
        {%- endfor -%}
        {%- for schema in tables.keys() | map(attribute=0) | unique | list -%}
            {%- do tables.update({(schema, '_load_ledger'): none, (schema, '_rejects'): none}) -%}
            {%- do run_query('create database if not exists ' ~ schema) -%}
        {%- endfor -%}
        {%- for schema, identifier in tables.keys() | sort -%}
            {%- set relation = schema ~ '.`' ~ identifier ~ '`' -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- do run_query(
                'create table ' ~ relation ~ " using parquet location '"
                ~ root.rstrip('/') ~ '/' ~ identifier ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
