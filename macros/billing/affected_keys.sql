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
    changed or gone: their signature is not a stored one), from `signatures` (a relation of
    subscription_item_month_signatures' rows) ... -#}
{% macro subscription_item_months_affected_subscriptions(signatures) -%}
    select subscription_id from (
        select subscription_id, inputs_signature
        from {{ signatures }}
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


{#- int_subscription_item_months' pre-hooks: compute every subscription's signature once and keep
    it (the model's rows carry it), keep the affected subscriptions and months, and delete their
    stored rows; the model recomputes exactly the kept subscriptions and months (an unaffected
    pair's stored rows are the ones it would recompute). -#}
{% macro subscription_item_months_signatures_now() -%}
    (
        select * from {{ revops.kept_affected_keys_relation(
            'signatures', revops.subscription_item_month_signatures()
        ) }} as kept_signatures
    ) as current_signatures
{%- endmacro %}

{% macro subscription_item_months_affected_subscriptions_now() -%}
    {{ revops.subscription_item_months_affected_subscriptions(
        revops.subscription_item_months_signatures_now()
    ) }}
{%- endmacro %}

{% macro subscription_item_months_keep_signatures() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('signatures', revops.subscription_item_month_signatures()) }}
    {%- endif -%}
{%- endmacro %}

{% macro subscription_item_months_keep_affected_subscriptions() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys(
        'subscriptions', revops.subscription_item_months_affected_subscriptions_now()
    ) }}
    {%- endif -%}
{%- endmacro %}

{% macro subscription_item_months_keep_affected_months() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('months', revops.subscription_item_months_affected_months()) }}
    {%- endif -%}
{%- endmacro %}

{% macro subscription_item_months_delete_affected() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where
        subscription_id in (
            select affected.subscription_id
            from {{ revops.kept_affected_keys('subscriptions') }} as affected
        )
        or month_start_date in (
            select affected.month_start_date
            from {{ revops.kept_affected_keys('months') }} as affected
        )
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
        ]) }} as inputs_signature,
        min(item_months.month_start_date) as first_service_month_date
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
    at changed: a late or corrected FX rate, or a new reporting currency). The signatures are
    computed once and kept (the model's rows carry them, and its spine starts at each customer's
    first month of service, kept with them). -#}
{% macro mrr_customer_signatures_now() -%}
    (
        select * from {{ revops.kept_affected_keys_relation(
            'signatures', revops.mrr_customer_signatures()
        ) }} as kept_signatures
    ) as current_signatures
{%- endmacro %}

{% macro mrr_customer_months_affected_customers() -%}
    select customer_id from (
        select customer_id, inputs_signature
        from {{ revops.mrr_customer_signatures_now() }}
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
    select currency, month_start_date from (
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


{#- int_mrr_customer_months' pre-hooks: keep the signatures and the affected customers, months
    and currency x months (each found once), then delete their stored rows; the model recomputes
    exactly those customer x months. -#}
{% macro mrr_customer_months_keep_signatures() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('signatures', revops.mrr_customer_signatures()) }}
    {%- endif -%}
{%- endmacro %}

{% macro mrr_customer_months_keep_affected_customers() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('customers', revops.mrr_customer_months_affected_customers()) }}
    {%- endif -%}
{%- endmacro %}

{% macro mrr_customer_months_keep_affected_months() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('months', revops.mrr_customer_months_affected_months()) }}
    {%- endif -%}
{%- endmacro %}

{% macro mrr_customer_months_keep_affected_currency_months() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys(
        'currency_months', revops.mrr_customer_months_affected_currency_months()
    ) }}
    {%- endif -%}
{%- endmacro %}

{#- Whether a customer x month (its `customer_id`, `currency` and `month_start_date`
    expressions) is among the kept affected keys. -#}
{% macro mrr_customer_month_is_affected(customer_id, currency, month_start_date) -%}
    {{ customer_id }} in (
        select affected.customer_id
        from {{ revops.kept_affected_keys_relation(
            'customers', revops.mrr_customer_months_affected_customers()
        ) }} as affected
    )
    or {{ month_start_date }} in (
        select affected.month_start_date
        from {{ revops.kept_affected_keys_relation(
            'months', revops.mrr_customer_months_affected_months()
        ) }} as affected
    )
    or exists (
        select 1
        from {{ revops.kept_affected_keys_relation(
            'currency_months', revops.mrr_customer_months_affected_currency_months()
        ) }} as affected
        where
            affected.currency = {{ currency }}
            and affected.month_start_date = {{ month_start_date }}
    )
{%- endmacro %}

{% macro mrr_customer_months_delete_affected() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where
        customer_id in (
            select affected.customer_id from {{ revops.kept_affected_keys('customers') }} as affected
        )
        or month_start_date in (
            select affected.month_start_date
            from {{ revops.kept_affected_keys('months') }} as affected
        )
        or {{ revops.currency_month_key('currency', 'month_start_date') }} in (
            select {{ revops.currency_month_key('affected.currency', 'affected.month_start_date') }}
            from {{ revops.kept_affected_keys('currency_months') }} as affected
        )
    {%- endif -%}
{%- endmacro %}


{#- Generic, for a model keyed on `key` whose rows of a key are built from that key's inputs
    alone: the affected keys, in one pass over the inputs. `signatures` selects `key` and
    `inputs_signature`, one row per key the model covers now; a key is affected when its
    signature is not the one stored with its rows (`_inputs_signature`): new, changed, or no
    longer covered (gone). `extra_condition` (over `current_keys`) marks more keys affected. -#}
{% macro keys_whose_signature_moved(signatures, key, extra_condition='false') -%}
    select coalesce(current_keys.{{ key }}, stored_keys.{{ key }}) as {{ key }}
    from ({{ signatures }}) as current_keys
    full outer join (
        select distinct
            {{ key }},
            _inputs_signature
        from {{ this }}
    ) as stored_keys
        on current_keys.{{ key }} = stored_keys.{{ key }}
    where
        current_keys.inputs_signature is distinct from stored_keys._inputs_signature
        or ({{ extra_condition }})
{%- endmacro %}


{#- int_invoice_lines_recognised: each subscription line it covers (finalized, non-void
    invoice; test and internal customers excluded) with what its monthly parts are computed
    from: customer, segment, amount converted at the invoice day's rate, service period.
    `among`, when given, names a relation of `invoice_line_item_id`s: only those lines are
    read (before the joins). -#}
{% macro recognisable_invoice_lines(among=none) -%}
    select
        line_items.invoice_line_item_id,
        invoices.customer_id,
        coalesce(accounts.segment, 'Unknown') as segment,
        cast(
            round(
                (line_items.amount - coalesce(line_items.discount_amount, 0))
                * fx_rates.rate_to_reporting,
                2
            ) as decimal(18, 2)
        ) as amount_reporting,
        cast(line_items.period_start_at as date) as period_start_date,
        cast(line_items.period_end_at as date) as period_end_date
    from {{ ref('stg_stripe__invoice_line_items') }} as line_items
    inner join {{ ref('stg_stripe__invoices') }} as invoices
        on line_items.invoice_id = invoices.invoice_id
    left join {{ ref('int_customers_linked') }} as customers
        on invoices.customer_id = customers.customer_id
    left join {{ ref('int_accounts_segmented') }} as accounts
        on customers.account_id = accounts.account_id
    left join {{ ref('int_fx_rates_daily') }} as fx_rates
        on
            line_items.currency = fx_rates.currency
            and cast(invoices.created_at as date) = fx_rates.calendar_date
    where
        line_items.line_item_type = 'subscription'
        and invoices.invoice_status in ('open', 'paid', 'uncollectible')
        and not coalesce(customers.is_excluded, false)
        {%- if among is not none %}
        and line_items.invoice_line_item_id in (
            select among_lines.invoice_line_item_id from {{ among }} as among_lines
        )
        {%- endif %}
{%- endmacro %}


{#- int_invoice_lines_recognised: each line's signature (one row per line: its own inputs)
    and service period; `lines` is a relation of recognisable_invoice_lines' rows. -#}
{% macro recognised_line_signatures(lines) -%}
    select
        invoice_line_item_id,
        min(period_start_date) as period_start_date,
        min(period_end_date) as period_end_date,
        {{ revops.row_set_signature([
            'customer_id', 'segment', 'amount_reporting', 'period_start_date', 'period_end_date',
        ]) }} as inputs_signature
    from {{ lines }}
    group by invoice_line_item_id
{%- endmacro %}


{#- int_invoice_lines_recognised, on an incremental run: the affected lines, from `signatures`
    (a relation of recognised_line_signatures' rows): a new, changed or gone line (another
    amount, rate, status, customer, segment or period); a line whose period overlaps a month of
    history with no row stored (a new month: history reached it); a line with a row in a month
    no longer in history. Months are calendar months (the current month's partial end is not
    an input), so the day moving on changes no stored row. -#}
{% macro invoice_lines_recognised_affected_lines(signatures) -%}
    {{ revops.keys_whose_signature_moved(
        'select * from ' ~ signatures,
        'invoice_line_item_id',
        'exists (
            select 1 from ' ~ ref('int_billing_months') ~ ' as new_months
            where
                new_months.month_start_date not in (select distinct month from ' ~ this ~ ')
                and current_keys.period_start_date <= new_months.month_end_date
                and (
                    current_keys.period_end_date > new_months.month_start_date
                    or (
                        current_keys.period_end_date <= current_keys.period_start_date
                        and current_keys.period_start_date >= new_months.month_start_date
                    )
                )
        )',
    ) }}
    union
    select invoice_line_item_id from {{ this }}
    where month not in (select month_start_date from {{ ref('int_billing_months') }})
{%- endmacro %}


{#- int_mrr_movements_classified: what each customer's rows are built from (its
    int_mrr_customer_months rows, without the reference day: the current month moving on
    changes a customer only when its MRR changes), one signature per customer. -#}
{% macro mrr_movement_signature_columns() -%}
    {{ return([
        'account_id', 'segment', 'currency', 'reporting_currency', 'mrr', 'mrr_constant_currency',
        'mrr_at_previous_month_rate', 'month_start_date',
    ]) }}
{%- endmacro %}

{% macro mrr_movement_signatures() -%}
    select
        customer_id,
        {{ revops.row_set_signature(revops.mrr_movement_signature_columns()) }}
            as inputs_signature
    from {{ ref('int_mrr_customer_months') }}
    group by customer_id
{%- endmacro %}


{#- int_mrr_movements_classified's pre-hooks: find the affected customers once (new, changed or
    gone: their signature is not the stored one) and keep them, then delete every row of them;
    the model recomputes exactly the kept customers. A customer's movements depend on its own
    months only (previous month, highest earlier MRR), so its rows are recomputed whole. -#}
{% macro mrr_movements_affected_customers() -%}
    {{ revops.keys_whose_signature_moved(revops.mrr_movement_signatures(), 'customer_id') }}
{%- endmacro %}

{% macro mrr_movements_keep_affected() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('customers', revops.mrr_movements_affected_customers()) }}
    {%- endif -%}
{%- endmacro %}

{% macro mrr_movements_delete_affected() -%}
    {{ revops.delete_kept_affected_keys('customers', 'customer_id') }}
{%- endmacro %}


{#- int_mrr_retention_customer_months: what each customer's rows are built from (its
    int_mrr_movements_classified rows and their MRR at the year-ago rate from
    int_mrr_customer_months), one signature per customer. -#}
{% macro mrr_retention_signature_columns() -%}
    {{ return([
        'segment', 'mrr', 'previous_mrr', 'mrr_at_previous_month_rate', 'mrr_at_year_ago_rate',
        'month',
    ]) }}
{%- endmacro %}

{% macro mrr_retention_signatures() -%}
    select
        customer_id,
        {{ revops.row_set_signature(revops.mrr_retention_signature_columns()) }}
            as inputs_signature
    from (
        select
            movements.customer_id,
            movements.segment,
            movements.mrr,
            movements.previous_mrr,
            movements.mrr_at_previous_month_rate,
            customer_months.mrr_at_year_ago_rate,
            movements.month
        from {{ ref('int_mrr_movements_classified') }} as movements
        left join {{ ref('int_mrr_customer_months') }} as customer_months
            on
                movements.customer_id = customer_months.customer_id
                and movements.month = customer_months.month_start_date
    ) as retention_inputs
    group by customer_id
{%- endmacro %}


{#- int_mrr_retention_customer_months' pre-hooks: find the affected customers once, keep them,
    delete every row of them; the model recomputes exactly the kept customers. -#}
{% macro mrr_retention_affected_customers() -%}
    {{ revops.keys_whose_signature_moved(revops.mrr_retention_signatures(), 'customer_id') }}
{%- endmacro %}

{% macro mrr_retention_keep_affected() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('customers', revops.mrr_retention_affected_customers()) }}
    {%- endif -%}
{%- endmacro %}

{% macro mrr_retention_delete_affected() -%}
    {{ revops.delete_kept_affected_keys('customers', 'customer_id') }}
{%- endmacro %}


{#- The newest `_loaded_at` in the model's table (1900-01-01 when empty): the watermark of a
    model whose rows keep the latest load among their inputs. -#}
{% macro newest_loaded_at() -%}
    select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) from {{ this }}
{%- endmacro %}


{#- Condition of a keyed model's SQL on an incremental run: the keys with no row stored (after
    the pre-hook deleted the affected keys' rows, no row is ever duplicated); on a full build,
    `true`. -#}
{% macro key_not_stored(key) -%}
    {%- if is_incremental() -%}
        {{ key }} not in (
            select stored.{{ key }} from {{ this }} as stored where stored.{{ key }} is not null
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- int_subscription_item_states' pre-hook: delete the rows of the lines int_invoice_lines_priced
    recomputed since the newest row here (a new version of the line, its price or its coupon);
    the model appends those lines' rows again, when they still qualify. -#}
{% macro subscription_item_states_pre_hook() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where invoice_line_item_id in (
        select invoice_line_item_id from {{ ref('int_invoice_lines_priced') }}
        where _loaded_at > ({{ revops.newest_loaded_at() }})
    )
    {%- endif -%}
{%- endmacro %}


{#- A model's affected keys, found once per run: the pre-hook keeps them in a temporary table
    of its connection (`keep_affected_keys`, before the delete that uses them), and the model's
    SQL reads that table (`kept_affected_keys`) instead of finding them a second time in the
    table the delete just changed. dbt runs a model's pre-hooks and SQL in one transaction on
    one connection; the table is replaced at the model's next incremental run and never seen
    by another connection. Only incremental runs use it (DuckDB: Spark builds tables). -#}
{% macro kept_affected_keys(name) -%}
    {{ return(adapter.dispatch('kept_affected_keys', 'revops')(name)) }}
{%- endmacro %}

{% macro default__kept_affected_keys(name) -%}
    {{ this.identifier }}__affected_{{ name }}
{%- endmacro %}

{#- What the model's SQL reads as its affected keys: the kept table; in a dbt unit test (no
    pre-hook runs there) the same `keys` query the pre-hook keeps, over the test's inputs, so
    that the unit tests still exercise how the keys are found. -#}
{% macro kept_affected_keys_relation(name, keys) -%}
    {%- if model.resource_type == 'unit_test' -%}
    ({{ keys }})
    {%- else -%}
    {{ revops.kept_affected_keys(name) }}
    {%- endif -%}
{%- endmacro %}

{% macro keep_affected_keys(name, keys) -%}
    {{ return(adapter.dispatch('keep_affected_keys', 'revops')(name, keys)) }}
{%- endmacro %}

{% macro default__keep_affected_keys(name, keys) -%}
    create or replace temporary table {{ revops.kept_affected_keys(name) }} as {{ keys }}
{%- endmacro %}

{#- A pre-hook of an incremental run: delete the model's rows whose `column` is among `keys`
    (a query of that one column). -#}
{% macro delete_rows_of_keys(column, keys) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ column }} in (
        {{ keys }}
    )
    {%- endif -%}
{%- endmacro %}

{#- The pre-hook that deletes the model's rows of the kept keys (`column` in both tables). -#}
{% macro delete_kept_affected_keys(name, column) -%}
    {{ revops.delete_rows_of_keys(
        column,
        'select affected.' ~ column ~ ' from ' ~ revops.kept_affected_keys(name) ~ ' as affected',
    ) }}
{%- endmacro %}


{#- int_invoice_lines_recognised's pre-hooks: find the affected lines once, keep them, delete
    their rows; the model recomputes exactly the kept lines (those still recognisable). -#}
{% macro invoice_lines_recognised_affected_lines_now() -%}
    {{ revops.invoice_lines_recognised_affected_lines(
        '(' ~ revops.recognised_line_signatures(
            '(' ~ revops.recognisable_invoice_lines() ~ ') as recognisable'
        ) ~ ') as line_signatures'
    ) }}
{%- endmacro %}

{% macro invoice_lines_recognised_keep_affected() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('lines', revops.invoice_lines_recognised_affected_lines_now()) }}
    {%- endif -%}
{%- endmacro %}

{% macro invoice_lines_recognised_delete_affected() -%}
    {{ revops.delete_kept_affected_keys('lines', 'invoice_line_item_id') }}
{%- endmacro %}
