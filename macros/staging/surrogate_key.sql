{#-
    A text key made from several columns (md5 of their text joined by `|`, null as `_null_`):
    the single-column primary key of models whose natural key has several columns.
-#}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append(
            "coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_null_')"
        ) -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
