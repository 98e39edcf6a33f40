-- The MRR bridge balances to the cent for every month and segment: this month's MRR is last
-- month's plus new, reactivation and expansion, less contraction and churn (all in constant
-- currency), plus the currency effect fx. The customer grain is checked too, so a movement
-- misclassified on one customer cannot hide in a segment total, and so is the constant-currency
-- side on its own: for a customer paying both months, last month's MRR plus its expansion less
-- its contraction is this month's MRR at last month's rate (fx is not a plug). Compared with
-- `is distinct from`: a null MRR or movement fails. A month with an `unconverted` movement (MRR
-- without a usable FX rate, reported by assert_amounts_have_fx_rates) cannot balance and is
-- left out, per segment and month and per customer and month.
select
    'mrr_by_month' as model_name,
    segment,
    month,
    mrr,
    starting_mrr + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churn_mrr
    + fx_mrr as bridged_mrr
from {{ ref('mrr_by_month') }}
where
    unconverted_movements = 0
    and mrr is distinct from (
        starting_mrr + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churn_mrr
        + fx_mrr
    )
union all
select
    'fct_mrr' as model_name,
    customer_id as segment,
    month,
    mrr,
    previous_mrr + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churn_mrr
    + fx_mrr as bridged_mrr
from {{ ref('fct_mrr') }}
where
    movement <> 'unconverted'
    and mrr is distinct from (
        previous_mrr + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churn_mrr
        + fx_mrr
    )
union all
select
    'fct_mrr constant currency' as model_name,
    customer_id as segment,
    month,
    mrr_at_previous_month_rate as mrr,
    previous_mrr + expansion_mrr - contraction_mrr as bridged_mrr
from {{ ref('fct_mrr') }}
where
    movement in ('expansion', 'contraction', 'unchanged')
    and mrr_at_previous_month_rate is distinct from (
        previous_mrr + expansion_mrr - contraction_mrr
    )
