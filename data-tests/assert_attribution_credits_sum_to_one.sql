-- Every attributed opportunity hands out exactly 100% of its credit under each model. A null
-- credit fails too (a sum would skip it).
select
    opportunity_id,
    attribution_model,
    sum(credit) as total_credit,
    count(*) - count(credit) as null_credits
from {{ ref('fct_attribution') }}
group by opportunity_id, attribution_model
having
    count(*) <> count(credit)
    or abs(sum(credit) - 1) > 0.000001
