{#-
    Scoped data tests (docs/SERVING.md, "Daily increments"): on a daily increment a test of an
    incremental staging model checks only the rows loaded since the last build in which it
    passed, when that is as strong as checking every row. revops/test_scope.py decides which
    tests are scoped and since when, and passes it in $REVOPS_TEST_SCOPE, read here at run
    time only (a `--vars` value would make dbt parse the whole project again every day):

        {"<test unique_id>": {"mode": "rows" | "keys" | "lineage",
                              "since": "<_loaded_at already checked>",
                              "keys": ["<column>", ...],
                              "written": ["<write key column>", ...], "model": "<name>",
                              "whole": ["<parent model>", ...]}}

    The new rows are those loaded since `since` (staging: `_loaded_at`), or, when `written` is
    given (an intermediate model or mart), those whose write key an incremental write recorded
    after `since` (macros/tests/rows_written.sql). A view that passes its parents' rows
    through (the CRM union views) is scoped by `_loaded_at` as a staging model is, as long as
    its `whole` parents (tables rebuilt whole) have no row.

    * rows: the test looks at each row on its own (not_null, accepted_values), or is a
      uniqueness test whose key includes the write key (a row sharing its key with a new row
      shares its write key, so is new too): the new rows.
    * keys: a uniqueness test: every row, old or new, whose key is the key of a new row (a new
      row duplicating an old one still fails).
    * lineage: `cast_failures` scopes its two sides itself (`scoped_loaded_at_filter`).

    A test absent from the map (or no map at all: a full re-check, a full refresh, Spark) reads
    the whole model, as dbt's own `get_where_subquery` does.
-#}

{#- The scope of the test being compiled, or none (read at run time only). -#}
{% macro test_scope() %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set raw = env_var('REVOPS_TEST_SCOPE', '') -%}
    {%- if raw | trim == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(fromjson(raw).get(model.unique_id)) }}
{% endmacro %}


{#- `_loaded_at > <since>` for a scope (qualified by `alias` when given). -#}
{% macro scoped_loaded_at_filter(scope, alias=none) -%}
    {{ alias ~ '.' if alias }}_loaded_at > cast('{{ scope.since }}' as timestamp with time zone)
{%- endmacro %}


{#- The new rows of a scope (qualified by `alias` when given): loaded, or written, since its
    mark. -#}
{% macro scoped_new_rows_filter(scope, alias=none) -%}
    {%- if scope.get('written') -%}
        {%- set prefix = alias ~ '.' if alias else '' -%}
        hash({{ prefix ~ scope['written'] | join(', ' ~ prefix) }}) in (
            select written.key_hash from {{ revops.rows_written_table() }} as written
            where written.model = '{{ scope.model }}'
            and written.written_at > cast('{{ scope.since }}' as timestamp with time zone))
    {%- else -%}
        {{ revops.scoped_loaded_at_filter(scope, alias) }}
    {%- endif -%}
{%- endmacro %}


{#- A pass-through view's scope names its `whole` parents (not incremental staging models): while
    any of them has a row, every row of the view is read (an `or` beside the new rows' join,
    which keeps their `_loaded_at` filter pushed down to the staging table's zone maps).
    `relation` (the tested view) locates them: same database and schema. -#}
{% macro scoped_whole_parents_guard(scope, relation) -%}
    {%- for name in scope.get('whole', []) %} or exists (select 1 from {{ relation.incorporate(path={'identifier': name}) }}){% endfor -%}
{%- endmacro %}


{#- dbt's `get_where_subquery` (the relation a generic test reads, with its `where` config),
    narrowed to the test's scope. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {#- at parse time a test's namespace holds only the macros it names: no scope then -#}
    {%- set scope = revops.test_scope() if execute else none -%}
    {%- if scope is none or scope.mode == 'lineage' -%}
        {%- if where -%}
            {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
        {%- endif -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- set condition = '(' ~ where ~ ')' if where else 'true' -%}
    {%- if scope.mode == 'rows' and scope.get('whole') -%}
        {{ exceptions.raise_compiler_error("test scope: a view with whole parents is scoped by keys only") }}
    {%- elif scope.mode == 'rows' -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ condition }} and {{ revops.scoped_new_rows_filter(scope) }}) dbt_subquery
        {%- endset -%}
    {%- elif scope.mode == 'keys' -%}
        {%- set filtered -%}
            (select * from {{ relation }} as scoped_rows where {{ condition }} and (exists (select 1 from {{ relation }} as scoped_new_rows where {{ condition }} and {{ revops.scoped_new_rows_filter(scope, 'scoped_new_rows') }}
            {%- for key in scope['keys'] %} and scoped_new_rows.{{ key }} is not distinct from scoped_rows.{{ key }}{% endfor %}){{ revops.scoped_whole_parents_guard(scope, relation) }})) dbt_subquery
        {%- endset -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("test scope: unknown mode " ~ scope.mode) }}
    {%- endif -%}
    {%- do return(filtered) -%}
{%- endmacro %}
