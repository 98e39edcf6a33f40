-- Every attributed opportunity hands out exactly 100% of its credit under each model.
select
    opportunity_id,
    attribution_model,
    sum(credit) as total_credit
from {{ ref('fct_attribution') }}
group by opportunity_id, attribution_model
having abs(sum(credit) - 1) > 0.000001
