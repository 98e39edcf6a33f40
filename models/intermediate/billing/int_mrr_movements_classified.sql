-- One row per billing customer x month, from the customer's first month with service to the
-- latest month of history: MRR in the reporting currency, the previous month's MRR, the
-- movement that explains the change in constant currency (this month's MRR at last month's
-- rate against last month's MRR) and the currency effect `fx_mrr`, so that
-- mrr = previous_mrr + new + reactivation + expansion - contraction - churn + fx to the cent
-- (docs/METRICS.md, "Billing: MRR and movements").
-- Incremental by customer (macros/billing/affected_keys.sql): a run recomputes, whole, only the
-- customers whose int_mrr_customer_months rows changed; `_inputs_signature` records them. The
-- pre-hooks find those customers once and keep them for this SQL (kept_affected_keys).
{{ config(**affected_keys_config([
    "{{ revops.mrr_movements_keep_affected() }}",
    "{{ revops.mrr_movements_delete_affected() }}",
])) }}

with

customer_month_rows as (

    select
        customer_id,
        account_id,
        segment,
        currency,
        reporting_currency,
        mrr,
        mrr_constant_currency,
        mrr_at_previous_month_rate,
        month_start_date
    from {{ ref('int_mrr_customer_months') }}
    {%- if is_incremental() %}
    where customer_id in (
        select affected.customer_id
        from {{ kept_affected_keys_relation('customers', mrr_movements_affected_customers()) }}
            as affected
    )
    {%- endif %}

),

signatures as (

    -- Every row of each customer above: its signature equals the one computed over all
    -- customers (mrr_movement_signatures).
    select
        customer_id,
        {{ row_set_signature(mrr_movement_signature_columns()) }} as inputs_signature
    from customer_month_rows
    group by customer_id

),

customer_months as (

    select
        customer_month_rows.*,
        signatures.inputs_signature
    from customer_month_rows
    inner join signatures
        on customer_month_rows.customer_id = signatures.customer_id

),

with_history as (

    select
        *,
        -- A month whose MRR or previous MRR could not be converted (no usable FX rate) has no
        -- known movement: it is `unconverted`, with null MRR where unknown and no movement amounts.
        row_number() over (partition by customer_id order by month_start_date) > 1
        and lag(mrr) over (partition by customer_id order by month_start_date) is null
            as is_previous_unconverted,
        coalesce(
            lag(mrr) over (partition by customer_id order by month_start_date),
            0
        ) as previous_mrr,
        coalesce(
            max(mrr) over (
                partition by customer_id
                order by month_start_date
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as max_previous_mrr
    from customer_months

),

classified as (

    -- Order matters: a move to zero is a churn before it can be a contraction. A customer paying
    -- both months expands or contracts in constant currency: this month's MRR at last month's
    -- rate against last month's MRR, so an exchange-rate move alone is `unchanged` (its effect
    -- is `fx_mrr`). Last month's rate is usable whenever last month's MRR is known and > 0
    -- (the same rate converted it); without it the movement is unconverted, never a guess.
    select
        *,
        case
            when mrr is null or is_previous_unconverted then 'unconverted'
            when previous_mrr = 0 and mrr > 0 and max_previous_mrr = 0 then 'new'
            when previous_mrr = 0 and mrr > 0 then 'reactivation'
            when previous_mrr > 0 and mrr = 0 then 'churn'
            when previous_mrr > 0 and mrr_at_previous_month_rate is null then 'unconverted'
            when mrr_at_previous_month_rate > previous_mrr then 'expansion'
            when mrr_at_previous_month_rate < previous_mrr then 'contraction'
            when mrr > 0 then 'unchanged'
            else 'inactive'
        end as movement
    from with_history

),

final as (

    select
        customer_id,
        account_id,
        segment,
        currency,
        reporting_currency,
        movement,
        mrr,
        case when not is_previous_unconverted then previous_mrr end as previous_mrr,
        cast(12 * mrr as decimal(18, 2)) as arr,
        mrr_constant_currency,
        mrr_at_previous_month_rate,
        cast(case when movement = 'new' then mrr else 0 end as decimal(18, 2)) as new_mrr,
        cast(
            case when movement = 'reactivation' then mrr else 0 end as decimal(18, 2)
        ) as reactivation_mrr,
        cast(
            case
                when movement = 'expansion' then mrr_at_previous_month_rate - previous_mrr
                else 0
            end as decimal(18, 2)
        ) as expansion_mrr,
        cast(
            case
                when movement = 'contraction' then previous_mrr - mrr_at_previous_month_rate
                else 0
            end as decimal(18, 2)
        ) as contraction_mrr,
        cast(
            case when movement = 'churn' then previous_mrr else 0 end as decimal(18, 2)
        ) as churn_mrr,
        -- The currency effect on MRR carried over from last month: this month's MRR at this
        -- month's rate less at last month's (signed; 0 for new, reactivated and churned MRR,
        -- which enter at this month's rate or leave at last month's).
        cast(
            case
                when movement in ('expansion', 'contraction', 'unchanged')
                    then mrr - mrr_at_previous_month_rate
                else 0
            end as decimal(18, 2)
        ) as fx_mrr,
        -- MRR is null only in service (int_mrr_customer_months): such a customer is active.
        coalesce(mrr > 0, true) as is_active,
        -- `month` is the public column name of the billing marts.
        month_start_date as month,  -- noqa: RF04
        inputs_signature as _inputs_signature
    from classified

)

select * from final
