-- One row per acquisition cohort x segment x month since the cohort: how much of a cohort's
-- starting MRR and how many of its customers remain. A customer's cohort is the month of its
-- first MRR (its first active month: movement `new` in fct_mrr) and its segment is the one it
-- had then, so cohort membership never changes; a customer who churns and comes back stays in
-- its first cohort.
-- `segment = 'All'` rows cover every segment.
with

customer_months as (

    select
        customer_id,
        segment,
        month,
        mrr,
        is_active
    from {{ ref('fct_mrr') }}

),

active_months as (

    select
        customer_id,
        segment,
        month,
        row_number() over (partition by customer_id order by month) as active_month_rank
    from customer_months
    where is_active

),

cohorts as (

    -- The first month in service with MRR, the month of movement `new`: exactly one month per
    -- customer that ever paid (also when that month's MRR has no usable FX rate, `unconverted`)
    select
        customer_id,
        segment,
        month as cohort_month
    from active_months
    where active_month_rank = 1

),

cohort_customer_months as (

    -- fct_mrr has a row for every month from a customer's first to the latest month of
    -- history (MRR zero after churn), so every cohort has every month up to the latest
    select
        cohorts.cohort_month,
        cohorts.segment,
        customer_months.month,
        customer_months.customer_id,
        customer_months.mrr
    from cohorts
    inner join customer_months
        on
            cohorts.customer_id = customer_months.customer_id
            and cohorts.cohort_month <= customer_months.month

),

with_all_segments as (

    select
        cohort_month,
        segment,
        month,
        customer_id,
        mrr
    from cohort_customer_months
    union all
    select
        cohort_month,
        'All' as segment,
        month,
        customer_id,
        mrr
    from cohort_customer_months

),

aggregated as (

    select
        cohort_month,
        segment,
        month,
        count(*) as cohort_customers,
        sum(case when mrr > 0 then 1 else 0 end) as active_customers,
        sum(mrr) as mrr
    from with_all_segments
    group by cohort_month, segment, month

),

starting as (

    select
        cohort_month,
        segment,
        mrr as cohort_starting_mrr
    from aggregated
    where month = cohort_month

),

final as (

    select
        aggregated.cohort_month,
        aggregated.segment,
        aggregated.month,
        cast(
            {{ dbt.datediff('aggregated.cohort_month', 'aggregated.month', 'month') }} as integer  -- noqa: LT05
        ) as months_since_cohort,
        cast(aggregated.cohort_customers as bigint) as cohort_customers,
        cast(aggregated.active_customers as bigint) as active_customers,
        cast(starting.cohort_starting_mrr as decimal(18, 2)) as cohort_starting_mrr,
        cast(aggregated.mrr as decimal(18, 2)) as mrr,
        cast(
            case
                when starting.cohort_starting_mrr > 0
                    then
                        cast(aggregated.mrr as double)
                        / cast(starting.cohort_starting_mrr as double)
            end as double
        ) as net_revenue_retention_rate,
        cast(
            case
                when aggregated.cohort_customers > 0
                    then cast(aggregated.active_customers as double) / aggregated.cohort_customers
            end as double
        ) as logo_retention_rate
    from aggregated
    inner join starting
        on
            aggregated.cohort_month = starting.cohort_month
            and aggregated.segment = starting.segment

)

select * from final
