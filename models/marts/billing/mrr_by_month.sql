-- One row per month of billing history x segment, plus an `All` row per month: MRR, ARR,
-- paying customers, the MRR bridge (new, reactivation, expansion, contraction, churn) with the
-- customers behind each movement, and the logo and gross revenue churn rates. Every month is
-- present, with zeros when a segment has no customers.
with

months as (

    select month_start_date from {{ ref('int_billing_months') }}

),

segments as (

    select segment from {{ ref('segment_bands') }}
    union all
    select 'Unknown' as segment
    union all
    select 'All' as segment

),

customer_months as (

    select
        segment,
        movement,
        mrr,
        new_mrr,
        reactivation_mrr,
        expansion_mrr,
        contraction_mrr,
        churn_mrr,
        month
    from {{ ref('fct_mrr') }}

),

segmented as (

    select * from customer_months
    union all
    select
        'All' as segment,
        movement,
        mrr,
        new_mrr,
        reactivation_mrr,
        expansion_mrr,
        contraction_mrr,
        churn_mrr,
        month
    from customer_months

),

aggregated as (

    select
        month,
        segment,
        sum(mrr) as mrr,
        sum(new_mrr) as new_mrr,
        sum(reactivation_mrr) as reactivation_mrr,
        sum(expansion_mrr) as expansion_mrr,
        sum(contraction_mrr) as contraction_mrr,
        sum(churn_mrr) as churn_mrr,
        sum(case when mrr > 0 then 1 else 0 end) as customers,
        sum(case when movement = 'new' then 1 else 0 end) as new_customers,
        sum(case when movement = 'reactivation' then 1 else 0 end) as reactivation_customers,
        sum(case when movement = 'expansion' then 1 else 0 end) as expansion_customers,
        sum(case when movement = 'contraction' then 1 else 0 end) as contraction_customers,
        sum(case when movement = 'churn' then 1 else 0 end) as churn_customers
    from segmented
    group by month, segment

),

spine as (

    select
        months.month_start_date as month,  -- noqa: RF04
        segments.segment
    from months
    cross join segments

),

filled as (

    select
        spine.segment,
        cast(coalesce(aggregated.mrr, 0) as decimal(18, 2)) as mrr,
        cast(coalesce(aggregated.new_mrr, 0) as decimal(18, 2)) as new_mrr,
        cast(coalesce(aggregated.reactivation_mrr, 0) as decimal(18, 2)) as reactivation_mrr,
        cast(coalesce(aggregated.expansion_mrr, 0) as decimal(18, 2)) as expansion_mrr,
        cast(coalesce(aggregated.contraction_mrr, 0) as decimal(18, 2)) as contraction_mrr,
        cast(coalesce(aggregated.churn_mrr, 0) as decimal(18, 2)) as churn_mrr,
        cast(coalesce(aggregated.customers, 0) as bigint) as customers,
        cast(coalesce(aggregated.new_customers, 0) as bigint) as new_customers,
        cast(coalesce(aggregated.reactivation_customers, 0) as bigint)
            as reactivation_customers,
        cast(coalesce(aggregated.expansion_customers, 0) as bigint) as expansion_customers,
        cast(coalesce(aggregated.contraction_customers, 0) as bigint) as contraction_customers,
        cast(coalesce(aggregated.churn_customers, 0) as bigint) as churn_customers,
        spine.month
    from spine
    left join aggregated
        on
            spine.month = aggregated.month
            and spine.segment = aggregated.segment

),

with_start as (

    select
        *,
        cast(
            coalesce(lag(mrr) over (partition by segment order by month), 0)
            as decimal(18, 2)
        ) as starting_mrr,
        cast(
            coalesce(lag(customers) over (partition by segment order by month), 0) as bigint
        ) as starting_customers
    from filled

),

final as (

    select
        segment,
        '{{ var("reporting_currency") }}' as reporting_currency,
        mrr,
        cast(12 * mrr as decimal(18, 2)) as arr,
        starting_mrr,
        new_mrr,
        reactivation_mrr,
        expansion_mrr,
        contraction_mrr,
        churn_mrr,
        cast(
            new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churn_mrr
            as decimal(18, 2)
        ) as net_new_mrr,
        customers,
        starting_customers,
        new_customers,
        reactivation_customers,
        expansion_customers,
        contraction_customers,
        churn_customers,
        churn_customers as logo_churn_numerator,
        starting_customers as logo_churn_denominator,
        cast(
            case
                when starting_customers > 0
                    then cast(churn_customers as double) / starting_customers
            end as double
        ) as logo_churn_rate,
        cast(contraction_mrr + churn_mrr as decimal(18, 2)) as gross_revenue_churn_numerator,
        starting_mrr as gross_revenue_churn_denominator,
        cast(
            case
                when starting_mrr > 0
                    then cast(contraction_mrr + churn_mrr as double) / starting_mrr
            end as double
        ) as gross_revenue_churn_rate,
        month
    from with_start

)

select * from final
