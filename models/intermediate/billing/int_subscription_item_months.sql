-- One row per subscription item x month of billing history in which its subscription is in
-- service at the month's reference instant: the item's state then (the covering line with the
-- latest period start) and its monthly value. The reference instant is the month's last second,
-- or the subscription's last second of service when it ended during the month, so the month
-- a subscription ends in is its first month without service unless it ended at the month's end.
-- Incremental: a run recomputes only the affected subscriptions and months (macros/billing/
-- affected_keys.sql); `_inputs_signature` records what each subscription's rows were built from.
-- The pre-hooks compute the signatures and find the affected keys once, and keep them for this
-- SQL (kept_affected_keys).
{{ config(**affected_keys_config([
    "{{ revops.subscription_item_months_keep_signatures() }}",
    "{{ revops.subscription_item_months_keep_affected_subscriptions() }}",
    "{{ revops.subscription_item_months_keep_affected_months() }}",
    "{{ revops.subscription_item_months_delete_affected() }}",
])) }}

with

months as (

    select
        month_start_date,
        reference_date,
        reference_at
    from {{ ref('int_billing_months') }}

),

subscriptions as (

    select
        subscription_id,
        customer_id,
        started_at,
        ended_at
    from {{ ref('stg_stripe__subscriptions') }}

),

signatures as (

    {%- if is_incremental() %}
    select
        current_signatures.subscription_id,
        current_signatures.inputs_signature
    from {{ subscription_item_months_signatures_now() }}
    {%- else %}
    {{ subscription_item_month_signatures() }}
    {%- endif %}

),

item_states as (

    select
        invoice_line_item_id,
        subscription_id,
        subscription_item_id,
        currency,
        monthly_value_x1200,
        is_proration,
        is_trial,
        period_start_at,
        period_end_at
    from {{ ref('int_subscription_item_states') }}

),

referenced as (

    select
        subscriptions.subscription_id,
        subscriptions.customer_id,
        months.month_start_date,
        months.reference_date,
        subscriptions.started_at,
        case
            when
                subscriptions.ended_at is not null
                and {{ dbt.dateadd('second', -1, 'subscriptions.ended_at') }} < months.reference_at
                then {{ dbt.dateadd('second', -1, 'subscriptions.ended_at') }}
            else months.reference_at
        end as reference_at
    from subscriptions
    cross join months
    {%- if is_incremental() %}
    where
        subscriptions.subscription_id in (
            select affected.subscription_id
            from {{ kept_affected_keys_relation(
                'subscriptions', subscription_item_months_affected_subscriptions_now()
            ) }} as affected
        )
        or months.month_start_date in (
            select affected.month_start_date
            from {{ kept_affected_keys_relation(
                'months', subscription_item_months_affected_months()
            ) }} as affected
        )
    {%- endif %}

),

in_service as (

    select
        subscription_id,
        customer_id,
        month_start_date,
        reference_date,
        reference_at
    from referenced
    where
        reference_at >= cast(month_start_date as timestamp)
        and reference_at >= started_at

),

covering as (

    select
        in_service.subscription_id,
        in_service.customer_id,
        in_service.month_start_date,
        in_service.reference_date,
        in_service.reference_at,
        item_states.subscription_item_id,
        item_states.invoice_line_item_id,
        item_states.currency,
        item_states.monthly_value_x1200,
        item_states.is_trial,
        row_number() over (
            partition by
                in_service.subscription_id,
                item_states.subscription_item_id,
                in_service.month_start_date
            order by
                item_states.period_start_at desc,
                item_states.is_proration desc,
                item_states.invoice_line_item_id desc
        ) as state_rank
    from in_service
    inner join item_states
        on
            in_service.subscription_id = item_states.subscription_id
            and in_service.reference_at >= item_states.period_start_at
            and in_service.reference_at < item_states.period_end_at

),

final as (

    select
        covering.customer_id,
        covering.subscription_id,
        covering.subscription_item_id,
        covering.invoice_line_item_id,
        covering.currency,
        covering.monthly_value_x1200,
        covering.is_trial,
        covering.month_start_date,
        covering.reference_date,
        covering.reference_at,
        signatures.inputs_signature as _inputs_signature
    from covering
    inner join signatures
        on covering.subscription_id = signatures.subscription_id
    where covering.state_rank = 1

)

select * from final
