-- The MRR bridge balances for every month and segment: this month's MRR is last month's plus
-- new, reactivation and expansion, less contraction and churn. The customer grain is checked
-- too, so a movement misclassified on one customer cannot hide in a segment total. Compared
-- with `is distinct from`: a null MRR or movement fails. A month with an `unconverted`
-- movement (MRR without a usable FX rate, reported by assert_amounts_have_fx_rates) cannot
-- balance and is left out, per segment and month and per customer and month.
select
    'mrr_by_month' as model_name,
    segment,
    month,
    mrr,
    starting_mrr + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churn_mrr
        as bridged_mrr
from {{ ref('mrr_by_month') }}
where
    unconverted_movements = 0
    and mrr is distinct from (
        starting_mrr + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churn_mrr
    )
union all
select
    'fct_mrr' as model_name,
    customer_id as segment,
    month,
    mrr,
    previous_mrr + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churn_mrr
        as bridged_mrr
from {{ ref('fct_mrr') }}
where
    movement <> 'unconverted'
    and mrr is distinct from (
        previous_mrr + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churn_mrr
    )
