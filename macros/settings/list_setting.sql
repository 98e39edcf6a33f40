{#-
    A comma-separated org setting (setting()) as a list of its trimmed, non-empty items, e.g.
    `quota_deal_categories` = "new_business, expansion". An empty list stops the run with a
    message naming the setting and its environment variable, rather than matching nothing.
-#}
{% macro list_setting(name) %}
    {%- set items = [] -%}
    {%- for item in (setting(name) | string).split(',') -%}
        {%- if item | trim != '' -%}
            {%- do items.append(item | trim) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if items | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Setting " ~ name ~ " (REVOPS_" ~ (name | upper) ~ ") must name at least one value"
        ) }}
    {%- endif -%}
    {{ return(items) }}
{% endmacro %}
