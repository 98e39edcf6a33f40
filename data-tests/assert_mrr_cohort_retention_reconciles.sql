-- Every customer with MRR belongs to exactly one cohort, so the cohorts' MRR and active
-- customers in a month add up to that month's MRR and customers in mrr_by_month (all
-- segments; per segment they differ by design, a cohort keeps its starting segment). A month
-- on one side only, or a null on either, fails (`is distinct from`).
with

cohorts as (

    select
        month,
        sum(mrr) as mrr,
        sum(active_customers) as customers
    from {{ ref('mrr_cohort_retention') }}
    where segment = 'All'
    group by month

),

months as (

    select
        month,
        mrr,
        customers
    from {{ ref('mrr_by_month') }}
    where segment = 'All'

)

select
    coalesce(months.month, cohorts.month) as month,  -- noqa: RF04
    months.mrr,
    cohorts.mrr as cohort_mrr,
    months.customers,
    cohorts.customers as cohort_customers
from months
full outer join cohorts
    on months.month = cohorts.month
where
    coalesce(cohorts.mrr, 0) is distinct from months.mrr
    or coalesce(cohorts.customers, 0) is distinct from months.customers
