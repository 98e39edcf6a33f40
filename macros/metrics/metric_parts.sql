{#- The additive parts of the metric marts: `All` rows, zero-filled sums, shared part lists. -#}

{#-
    The rows of `relation` (one per `keys` x segment) plus an `All` row per `keys`: each measure
    summed over the segments and cast back to its type (sums widen integers and decimals).
    `measures` is a list of [column, data type] pairs. The metric marts' parts are additive, so
    the `All` row is the sum of the segment rows and a ratio divides the summed parts.
    Columns come out in the order: keys, segment, measures.
-#}
{% macro with_all_segment(relation, keys, measures) -%}
    select
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        segment,
        {%- for measure in measures %}
        {{ measure[0] }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    union all
    select
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        'All' as segment,
        {%- for measure in measures %}
        cast(sum({{ measure[0] }}) as {{ measure[1] }}) as {{ measure[0] }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    group by {{ keys | join(', ') }}
{%- endmacro %}

{#-
    `cast(coalesce(sum(column), 0) as type) as column` for each [column, data type] pair of
    `measures`, read from `relation`: the parts of a metric row that left-joins its activity
    onto a month x segment spine (no activity in a month is a 0 count, not a missing row).
-#}
{% macro summed_measures(relation, measures) -%}
    {%- for measure in measures %}
    cast(coalesce(sum({{ relation }}.{{ measure[0] }}), 0) as {{ measure[1] }})
        as {{ measure[0] }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#-
    The additive opportunity parts of a metric row ([column, data type] pairs), in the order
    sales_ops_metrics_by_deal_category builds them and sales_ops_metrics reads them.
-#}
{% macro opportunity_measures() -%}
    {{ return([
        ['opportunities_created', 'bigint'],
        ['opportunities_won', 'bigint'],
        ['opportunities_lost', 'bigint'],
        ['won_amount', 'decimal(18, 2)'],
        ['won_with_amount', 'bigint'],
        ['won_without_amount', 'bigint'],
        ['won_unconverted', 'bigint'],
        ['sales_cycle_days', 'bigint'],
        ['time_to_close_days', 'bigint'],
        ['time_to_close_leads', 'bigint'],
    ]) }}
{%- endmacro %}
