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
    or backdated Stripe edit of an old month, a new price or coupon version, a new month or a
    later reference day of the current month. A change of the model's logic, of a macro or of an
    input model's SQL, or a removal of raw rows makes the refresh rebuild it (revops/incremental.py).
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
