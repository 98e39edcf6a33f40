{#-
    int_revenue_records_converted, incremental by revenue record (`record_type`, `record_id`):
    a run recomputes only the affected records (docs/SERVING.md, "Daily increments"). A stored
    row is built from its staging record (for a refund, also its charge, which gives the
    customer), its customer's exclusion and segment, and the FX rate of its currency on its
    created day. So a record is affected when

    - its staging row (or, for a refund, its charge's) was loaded after the newest `_loaded_at`
      stored: a new record, a new version (another status, amount, customer, currency or day);
    - its customer's exclusion or segment is not what its stored rows hold: the stored
      (customer_id, segment) pairs are compared with the customers now (a customer newly
      excluded, newly included, re-segmented, or linked to a Stripe customer row only now);
    - its currency x day has a stored rate that is not the rate now (a late or corrected FX
      rate, a rate gone stale, a day converted only now: a null rate is a value here).

    The first pre-hook keeps these keys (keep_affected_keys), the second deletes their stored
    rows, and the model appends the rows of those still in scope (finalized invoice, succeeded
    charge or refund, customer not excluded). A change of the model's logic, of a setting or
    mapping it reads, or a removal of raw rows rebuilds it (revops/incremental.py). Spark
    builds it as a table.
-#}

{#- One text key per record: its type and id (ids of different types never meet). -#}
{% macro revenue_record_key(record_type, record_id) -%}
    {{ dbt.concat([record_type, "'|'", record_id]) }}
{%- endmacro %}


{#- In the model: whether the record (`record_type`, `record_id` column) is among the kept
    affected records (the model's CTE `affected`) on an incremental run; `true` on a full
    build. -#}
{% macro revenue_record_is_affected(record_type, record_id) -%}
    {%- if is_incremental() -%}
    {{ record_id }} in (
        select affected.record_id from affected where affected.record_type = '{{ record_type }}'
    )
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}


{#- The affected records: `record_type`, `record_id` (see above). -#}
{% macro revenue_records_affected_keys() -%}
    with

    watermark as (

        select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) as loaded_at
        from {{ this }}

    ),

    customers_now as (

        select
            customers.customer_id,
            customers.is_excluded,
            coalesce(accounts.segment, 'Unknown') as segment
        from {{ ref('int_customers_linked') }} as customers
        left join {{ ref('int_accounts_segmented') }} as accounts
            on customers.account_id = accounts.account_id

    ),

    stored_customers as (

        select distinct
            customer_id,
            segment
        from {{ this }}
        where customer_id is not null

    ),

    affected_customers as (

        -- excluded now but stored; included now but not stored, or under another segment
        select customers_now.customer_id
        from customers_now
        left join stored_customers
            on customers_now.customer_id = stored_customers.customer_id
        where
            case
                when customers_now.is_excluded then stored_customers.customer_id is not null
                else
                    stored_customers.customer_id is null
                    or stored_customers.segment != customers_now.segment
            end
        union all
        -- stored with a segment, but no customer row now (its records are `Unknown`)
        select stored_customers.customer_id
        from stored_customers
        where
            stored_customers.segment != 'Unknown'
            and not exists (
                select 1 from customers_now
                where customers_now.customer_id = stored_customers.customer_id
            )

    ),

    stored_rates as (

        select distinct
            currency,
            record_date,
            rate_to_reporting
        from {{ this }}

    ),

    affected_days as (

        select
            stored_rates.currency,
            stored_rates.record_date
        from stored_rates
        left join {{ ref('int_fx_rates_daily') }} as fx_rates
            on
                stored_rates.currency = fx_rates.currency
                and stored_rates.record_date = fx_rates.calendar_date
        where stored_rates.rate_to_reporting is distinct from fx_rates.rate_to_reporting

    ),

    charges as (

        select
            charge_id,
            customer_id,
            _loaded_at
        from {{ ref('stg_stripe__charges') }}

    ),

    records as (

        select
            'invoiced' as record_type,
            invoice_id as record_id,
            customer_id,
            currency,
            cast(created_at as date) as record_date,
            _loaded_at
        from {{ ref('stg_stripe__invoices') }}
        union all
        select
            'collected' as record_type,
            charge_id as record_id,
            customer_id,
            currency,
            cast(created_at as date) as record_date,
            _loaded_at
        from {{ ref('stg_stripe__charges') }}
        union all
        select
            'refunded' as record_type,
            refunds.refund_id as record_id,
            charges.customer_id,
            refunds.currency,
            cast(refunds.created_at as date) as record_date,
            case
                when charges._loaded_at > refunds._loaded_at then charges._loaded_at
                else refunds._loaded_at
            end as _loaded_at
        from {{ ref('stg_stripe__refunds') }} as refunds
        left join charges
            on refunds.charge_id = charges.charge_id

    )

    select
        records.record_type,
        records.record_id
    from records
    where
        records._loaded_at > (select watermark.loaded_at from watermark)
        or records.customer_id in (
            select affected_customers.customer_id from affected_customers
        )
        or exists (
            select 1 from affected_days
            where
                affected_days.currency = records.currency
                and affected_days.record_date = records.record_date
        )
{%- endmacro %}


{#- The pre-hooks: keep the affected records, then delete their stored rows. -#}
{% macro revenue_records_keep_affected() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('records', revops.revenue_records_affected_keys()) }}
    {%- endif -%}
{%- endmacro %}

{% macro revenue_records_delete_affected() -%}
    {{ revops.delete_rows_of_keys(
        revops.revenue_record_key('record_type', 'record_id'),
        'select ' ~ revops.revenue_record_key('affected.record_type', 'affected.record_id')
        ~ ' from ' ~ revops.kept_affected_keys('records') ~ ' as affected',
    ) }}
{%- endmacro %}
