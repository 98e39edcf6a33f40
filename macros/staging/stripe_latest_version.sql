{#-
    The steps the incremental Stripe staging models share (stg_stripe__invoices, __charges,
    __invoice_line_items, __subscription_versions; macros/staging/incremental_staging.sql):
    the currency lookup before amounts are converted, and the latest version of each key among
    the new rows and the row already in the table.
-#}

{#- The body of a `with_exponent` CTE: every row of `relation` (a CTE, or a subquery in
    parentheses, with a `currency` column; aliased `versions`) with `currency_exponent`, the
    minor-unit exponent of its currency from the currency_exponents seed (null for a currency
    the seed does not know). A reference lookup, not a join of entities (docs/DECISIONLOG.md,
    "Stripe minor units in staging"). -#}
{% macro stripe_with_currency_exponent(relation) -%}
    select
        versions.*,
        currency_exponents.exponent as currency_exponent
    from {{ relation }} as versions
    left join (
        select
            currency_code,
            exponent
        from {{ ref('currency_exponents') }}
    ) as currency_exponents
        on versions.currency = currency_exponents.currency_code
{%- endmacro %}


{#- The body of a latest-version model's `final` CTE: the latest version of each `key`
    (`latest_version_rank`) among the rows of `relation`, a CTE with the model's output
    columns in their order, and, on an incremental run, the row already in the table for each
    of its keys (`with_current_versions`). The output has `relation`'s columns, in its order:
    that CTE is their one list. -#}
{% macro stripe_latest_version(relation, key) -%}
    select {{ star_except(['version_rank']) }}
    from (
        select
            candidates.*,
            {{ latest_version_rank(key) }} as version_rank
        from (
            {{ with_current_versions(relation, key) }}
        ) as candidates
    ) as ranked
    where version_rank = 1
{%- endmacro %}


{#- The columns stg_stripe__subscription_versions derives from a subscription's versions (its
    id, chain and latest flag) rather than from the delivered row: left out where a version is
    read back as a delivered row (the incremental candidates) and from stg_stripe__subscriptions,
    the latest version as a subscription. -#}
{% macro stripe_subscription_version_columns() %}
    {{ return([
        'subscription_version_id',
        'is_latest_version',
        'valid_from_date',
        'valid_to_date',
    ]) }}
{% endmacro %}
