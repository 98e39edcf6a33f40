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
    with a `currency` column), with `currency_exponent`, the minor-unit exponent of its
    currency from the currency_exponents seed (null for a currency the seed does not know).
    A reference lookup, not a join of entities (docs/DECISIONLOG.md, "Stripe minor units in
    staging"). -#}
{% macro latest_with_currency_exponent(relation, key) -%}
    select
        latest.*,
        currency_exponents.exponent as currency_exponent
    from (
        select
            *,
            {{ latest_version_rank(key) }} as version_rank
        from {{ relation }}
    ) as latest
    left join (
        select
            currency_code,
            exponent
        from {{ ref('currency_exponents') }}
    ) as currency_exponents
        on latest.currency = currency_exponents.currency_code
    where latest.version_rank = 1
{%- endmacro %}
