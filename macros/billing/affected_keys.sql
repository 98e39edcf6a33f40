{#-
    Incremental billing intermediates keyed on what changed (docs/BENCHMARKS.md, "Incremental
    billing intermediates"). A rebuild of such a model recomputes every key; an incremental run
    recomputes only the affected keys and gives the same rows:

    1. the model's pre-hook finds the affected keys, by comparing what each stored row was built
       from (its `_inputs_signature`, and the month's `reference_date`) with the inputs now,
       and deletes every stored row of an affected key;
    2. the model's SQL selects only the affected keys' rows, which are appended (`append`):
       keys that lost every row (a backdated cancellation) are deleted and not re-inserted.

    Comparing the inputs rather than load times catches every change whatever its cause: a late
    or backdated Stripe edit of an old month, a new price or coupon version, a CRM change of a
    customer's account or segment, a corrected FX rate or another reporting currency (MRR
    compares the stored rates per currency x month), a new month or a later reference day of the
    current month. A change of the model's own SQL, config or macros, or a removal of raw rows,
    makes the refresh rebuild it (revops/incremental.py).
    The hook, the SQL and the append run in one transaction. Spark (no delete without Delta)
    builds these models as tables.
-#}

{#- The config of an incremental billing model: `{{ config(**affected_keys_config(hooks)) }}`
    with `hooks` the SQL statements of its pre-hook (run only on an incremental run). -#}
{% macro affected_keys_config(pre_hook) %}
    {{ return({
        'materialized': latest_version_materialization(),
        'incremental_strategy': 'append',
        'on_schema_change': 'fail',
        'pre_hook': pre_hook,
    }) }}
{% endmacro %}


{#- An order-independent signature of a set of rows (aggregate over a group): the sum of each
    row's hash of `columns`, as text. Equal sets give equal signatures; a changed, added or
    removed row changes it (up to hash collisions of 64 bits). -#}
{% macro row_set_signature(columns) -%}
    {{ return(adapter.dispatch('row_set_signature', 'revops')(columns)) }}
{%- endmacro %}

{% macro default__row_set_signature(columns) -%}
    cast(coalesce(sum(cast(hash({{ columns | join(', ') }}) as {{ dbt.type_bigint() }})), 0)
        as {{ dbt.type_string() }})
{%- endmacro %}

{% macro duckdb__row_set_signature(columns) -%}
    cast(coalesce(sum(hash({{ columns | join(', ') }})), 0) as varchar)
{%- endmacro %}


{#- int_subscription_item_months: what each subscription's rows are built from (its row in
    stg_stripe__subscriptions and every item state of it), one signature per subscription. -#}
{% macro subscription_item_month_signatures() -%}
    select
        subscriptions.subscription_id,
        {{ revops.row_set_signature([
            'subscriptions.customer_id',
            'subscriptions.started_at',
            'subscriptions.ended_at',
            'item_states.invoice_line_item_id',
            'item_states.subscription_item_id',
            'item_states.currency',
            'item_states.monthly_value_x1200',
            'item_states.is_proration',
            'item_states.is_trial',
            'item_states.period_start_at',
            'item_states.period_end_at',
        ]) }} as inputs_signature
    from {{ ref('stg_stripe__subscriptions') }} as subscriptions
    left join {{ ref('int_subscription_item_states') }} as item_states
        on subscriptions.subscription_id = item_states.subscription_id
    group by subscriptions.subscription_id
{%- endmacro %}


{#- int_subscription_item_months, on an incremental run: the affected subscriptions (new,
    changed or gone: their signature is not a stored one) ... -#}
{% macro subscription_item_months_affected_subscriptions() -%}
    select subscription_id from (
        select subscription_id, inputs_signature
        from ({{ revops.subscription_item_month_signatures() }}) as current_signatures
        except
        select subscription_id, _inputs_signature from {{ this }}
    ) as changed
    union
    select subscription_id from (
        select subscription_id from {{ this }}
        except
        select subscription_id from {{ ref('stg_stripe__subscriptions') }}
    ) as gone
{%- endmacro %}


{#- ... and the affected months: new, or whose reference day moved (the current month, as
    history grows). Every month of an affected subscription and every subscription of an
    affected month is recomputed. -#}
{% macro subscription_item_months_affected_months() -%}
    select month_start_date from (
        select month_start_date, reference_date from {{ ref('int_billing_months') }}
        except
        select month_start_date, reference_date from {{ this }}
    ) as moved
{%- endmacro %}


{#- int_subscription_item_months' pre-hook: delete the stored rows of the affected keys. The
    model's SQL then finds the affected keys again, in the table without those rows: the same
    keys, plus unchanged subscriptions and months that have no row left, whose recomputed rows
    are exactly the deleted ones (so no row is ever duplicated). -#}
{% macro subscription_item_months_pre_hook() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where
        subscription_id in ({{ revops.subscription_item_months_affected_subscriptions() }})
        or month_start_date in ({{ revops.subscription_item_months_affected_months() }})
    {%- endif -%}
{%- endmacro %}


{#- int_mrr_customer_months: the customers it covers (test, internal and deleted excluded). -#}
{% macro mrr_customers() -%}
    select
        customer_id,
        account_id,
        currency
    from {{ ref('int_customers_linked') }}
    where
        not is_excluded
        and not coalesce(is_deleted, false)
{%- endmacro %}


{#- int_mrr_customer_months: per currency of its customers and month of billing history, the
    rates its rows convert at: the month's reference date, the currency's first usable rate of
    history (constant currency), the previous month's reference date (always its last day: only
    the latest month can be partial) and the last day of the same month a year earlier. -#}
{% macro mrr_currency_month_rates() -%}
    select
        currencies.currency,
        months.month_start_date,
        month_rates.rate_to_reporting,
        constant_rates.rate_to_reporting as constant_rate_to_reporting,
        previous_month_rates.rate_to_reporting as previous_month_rate_to_reporting,
        year_ago_rates.rate_to_reporting as year_ago_rate_to_reporting
    from (select distinct currency from ({{ revops.mrr_customers() }}) as c) as currencies
    cross join {{ ref('int_billing_months') }} as months
    left join (
        select
            currency,
            min(calendar_date) as first_rate_date
        from {{ ref('int_fx_rates_daily') }}
        group by currency
    ) as first_rates
        on currencies.currency = first_rates.currency
    left join {{ ref('int_fx_rates_daily') }} as month_rates
        on
            currencies.currency = month_rates.currency
            and months.reference_date = month_rates.calendar_date
    left join {{ ref('int_fx_rates_daily') }} as constant_rates
        on
            first_rates.currency = constant_rates.currency
            and first_rates.first_rate_date = constant_rates.calendar_date
    left join {{ ref('int_fx_rates_daily') }} as previous_month_rates
        on
            currencies.currency = previous_month_rates.currency
            and cast({{ dbt.dateadd('day', -1, 'months.month_start_date') }} as date)
            = previous_month_rates.calendar_date
    left join {{ ref('int_fx_rates_daily') }} as year_ago_rates
        on
            currencies.currency = year_ago_rates.currency
            and cast(
                {{ dbt.dateadd('day', -1, dbt.dateadd('month', -11, 'months.month_start_date')) }}
                as date
            ) = year_ago_rates.calendar_date
{%- endmacro %}


{#- int_mrr_customer_months: what each customer's rows are built from (its account, currency
    and segment, and its item months), one signature per customer. -#}
{% macro mrr_customer_signatures() -%}
    select
        customers.customer_id,
        {{ revops.row_set_signature([
            'customers.account_id',
            'customers.currency',
            'accounts.segment',
            'item_months.subscription_id',
            'item_months.subscription_item_id',
            'item_months.month_start_date',
            'item_months.monthly_value_x1200',
        ]) }} as inputs_signature
    from ({{ revops.mrr_customers() }}) as customers
    left join {{ ref('int_accounts_segmented') }} as accounts
        on customers.account_id = accounts.account_id
    left join {{ ref('int_subscription_item_months') }} as item_months
        on customers.customer_id = item_months.customer_id
    group by customers.customer_id
{%- endmacro %}


{#- The key of a currency x month, as text. -#}
{% macro currency_month_key(currency, month) -%}
    {{ dbt.concat([currency, "'|'", 'cast(' ~ month ~ ' as ' ~ dbt.type_string() ~ ')']) }}
{%- endmacro %}


{#- int_mrr_customer_months, on an incremental run: the affected customers (new, changed or
    gone), months (new, or whose reference day moved) and currency x months (a rate they convert
    at changed: a late or corrected FX rate, or a new reporting currency). -#}
{% macro mrr_customer_months_affected_customers() -%}
    select customer_id from (
        select customer_id, inputs_signature
        from ({{ revops.mrr_customer_signatures() }}) as current_signatures
        except
        select customer_id, _inputs_signature from {{ this }}
    ) as changed
    union
    select customer_id from (
        select customer_id from {{ this }}
        except
        select customer_id from ({{ revops.mrr_customers() }}) as current_customers
    ) as gone
{%- endmacro %}

{% macro mrr_customer_months_affected_months() -%}
    select month_start_date from (
        select month_start_date, reference_date from {{ ref('int_billing_months') }}
        except
        select month_start_date, reference_date from {{ this }}
    ) as moved
{%- endmacro %}

{% macro mrr_customer_months_affected_currency_months() -%}
    select {{ revops.currency_month_key('currency', 'month_start_date') }} from (
        select
            currency,
            month_start_date,
            rate_to_reporting,
            constant_rate_to_reporting,
            previous_month_rate_to_reporting,
            year_ago_rate_to_reporting,
            '{{ setting("reporting_currency") }}' as reporting_currency
        from ({{ revops.mrr_currency_month_rates() }}) as current_rates
        except
        select
            currency,
            month_start_date,
            rate_to_reporting,
            constant_rate_to_reporting,
            previous_month_rate_to_reporting,
            year_ago_rate_to_reporting,
            reporting_currency
        from {{ this }}
    ) as rerated
{%- endmacro %}


{#- int_mrr_customer_months' pre-hook: delete the stored rows of the affected keys (the model's
    SQL finds them again without those rows; see subscription_item_months_pre_hook). -#}
{% macro mrr_customer_months_pre_hook() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where
        customer_id in ({{ revops.mrr_customer_months_affected_customers() }})
        or month_start_date in ({{ revops.mrr_customer_months_affected_months() }})
        or {{ revops.currency_month_key('currency', 'month_start_date') }}
        in ({{ revops.mrr_customer_months_affected_currency_months() }})
    {%- endif -%}
{%- endmacro %}
