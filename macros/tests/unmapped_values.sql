{#-
    Values a mapping seed (or the export's metadata) does not know: one row per value of
    `column_name` on the rows where `mapped` (a boolean SQL expression on the model) is false,
    with the number of such rows (or the sum of `row_count`, an expression on the model, where
    a model row stands for several source rows). An empty value is reported as null. Meant for
    `severity: warn`: an unmapped value takes its documented fallback and never blocks; the
    warning names it and how many rows it touches.

        data_tests:
          - unmapped_values:
              arguments:
                mapped: is_stage_mapped
              config:
                severity: warn
-#}
{% test unmapped_values(model, column_name, mapped, row_count=none) %}

select
    {{ column_name }} as unmapped_value,
    {% if row_count is none -%}
    count(*) as row_count
    {%- else -%}
    sum({{ row_count }}) as row_count
    {%- endif %}
from {{ model }}
where not ({{ mapped }})
group by {{ column_name }}

{% endtest %}
