-- One row per billing customer x month: MRR and the movement that explains its change
-- (docs/METRICS.md, "Billing: MRR and movements"). The classification lives in
-- int_mrr_movements_classified, which intermediate models read too (an intermediate model
-- never reads a mart).
with

customer_months as (

    select
        customer_id,
        account_id,
        segment,
        currency,
        reporting_currency,
        movement,
        mrr,
        previous_mrr,
        arr,
        mrr_constant_currency,
        mrr_at_previous_month_rate,
        new_mrr,
        reactivation_mrr,
        expansion_mrr,
        contraction_mrr,
        churn_mrr,
        fx_mrr,
        is_active,
        month  -- noqa: RF04
    from {{ ref('int_mrr_movements_classified') }}

),

final as (

    select * from customer_months

)

select * from final
