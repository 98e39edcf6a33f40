{#-
    Typed values that staging nulled: one row per (row, column) whose delivered text is present
    but whose typed column is null, because a cast, a date or JSON parse, or a currency lookup
    failed. Staging casts with `try_cast`, so without this test a bad value would vanish.

    Applied to a staging model, it compares each typed column with the delivered text of the
    same raw row (matched on the lineage columns `_file_path`, `_row_number` and `_loaded_at`,
    which staging keeps) in the model's own source:

        data_tests:
          - cast_failures:
              arguments:
                columns:
                  created_at: CreatedDate                    # a raw column
                  unit_amount:                               # a value inside a JSON column
                    column: price
                    json_path: $.unit_amount

    Use one instance for the columns that must never fail (keys, amounts, dates: severity
    error, the default) and another with `severity: warn` for descriptive ones.

    Scoped on a daily increment (macros/tests/test_scope.sql, mode `lineage`): both sides keep
    only the rows loaded since the last passing check. A row is matched on `_loaded_at` too, so
    the filter on each side drops exactly the pairs the join would have made of older rows.
-#}
{% test cast_failures(model, columns) %}

{%- set source_relation = revops.staging_source_relation(model) -%}
{%- set lineage = ['_file_path', '_row_number', '_loaded_at'] -%}
{%- set scope = revops.test_scope() -%}

with

typed as (

    select
        {% for column in lineage -%}
        {{ column }},
        {% endfor -%}
        {% for typed_column in columns -%}
        {{ typed_column }} as typed__{{ loop.index }}{{ "," if not loop.last }}
        {% endfor %}
    from {{ model }}
    {%- if scope is not none %}
    where {{ revops.scoped_loaded_at_filter(scope) }}
    {%- endif %}

),

delivered as (

    select
        {% for column in lineage -%}
        {{ column }},
        {% endfor -%}
        {% for typed_column, raw in columns.items() -%}
        {%- if raw is mapping -%}
        {%- set raw_value = revops.json_extract_text(adapter.quote(raw['column']), raw['json_path']) -%}
        {%- else -%}
        {%- set raw_value = adapter.quote(raw) -%}
        {%- endif -%}
        {{ raw_value }} as delivered__{{ loop.index }}{{ "," if not loop.last }}
        {% endfor %}
    from {{ source_relation }}
    {%- if scope is not none %}
    where {{ revops.scoped_loaded_at_filter(scope) }}
    {%- endif %}

),

matched as (

    select
        typed.*,
        {% for typed_column in columns -%}
        delivered.delivered__{{ loop.index }}{{ "," if not loop.last }}
        {% endfor %}
    from typed
    inner join delivered
        on
            typed._file_path = delivered._file_path
            and typed._row_number = delivered._row_number
            and typed._loaded_at = delivered._loaded_at

),

failures as (

    {% for typed_column, raw in columns.items() -%}
    select
        '{{ typed_column }}' as column_name,
        cast(delivered__{{ loop.index }} as {{ dbt.type_string() }}) as delivered_value,
        _file_path,
        _row_number
    from matched
    where
        typed__{{ loop.index }} is null
        and nullif(trim(delivered__{{ loop.index }}), '') is not null
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

)

select * from failures

{% endtest %}

