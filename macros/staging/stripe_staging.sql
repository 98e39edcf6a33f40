{#-
    Shapes every Stripe staging model repeats.
-#}

{#- Stripe's `deleted` flag: absent or empty on a live object (only a deletion carries it),
    so an empty value is `false`; anything else is parsed (an unparseable value gives null,
    which the `cast_failures` test reports). -#}
{% macro stripe_deleted_flag(column) -%}
    case
        when nullif(trim({{ column }}), '') is null then false
        else {{ revops.try_cast('lower(trim(' ~ column ~ '))', 'boolean') }}
    end
{%- endmacro %}


{#- The body of a `with_exponent` CTE: the latest version of each `key` in `relation` (a CTE
    with a `currency` column), with `currency_exponent` (`stripe_with_currency_exponent`, in
    macros/staging/stripe_latest_version.sql). -#}
{% macro latest_with_currency_exponent(relation, key) -%}
    {%- set ranked -%}
    (
        select
            *,
            {{ latest_version_rank(key) }} as version_rank
        from {{ relation }}
    )
    {%- endset -%}
    {{ stripe_with_currency_exponent(ranked) }}
    where versions.version_rank = 1
{%- endmacro %}
