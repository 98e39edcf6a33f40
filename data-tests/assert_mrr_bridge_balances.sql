-- The MRR bridge balances for every month and segment: this month's MRR is last month's plus
-- new, reactivation and expansion, less contraction and churn. The customer grain is checked
-- too, so a movement misclassified on one customer cannot hide in a segment total.
select
    'mrr_by_month' as model_name,
    segment,
    month,
    mrr,
    starting_mrr + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churn_mrr
        as bridged_mrr
from {{ ref('mrr_by_month') }}
where
    mrr
    != starting_mrr + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churn_mrr
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
    mrr
    != previous_mrr + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churn_mrr
