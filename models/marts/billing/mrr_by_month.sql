-- One row per month of billing history x segment, plus an `All` row per month: MRR, ARR,
-- paying customers, the MRR bridge (new, reactivation, expansion, contraction, churn in constant
-- currency, and the currency effect fx) with the customers behind each movement, the logo and
-- gross revenue churn rates, net and gross revenue retention (monthly and trailing 12 months),
-- annual renewals and upsell. Every month is present, with zeros when a segment has no
-- customers.
with

months as (

    select month_start_date from {{ ref('int_billing_months') }}

),

segments as (

    select bands.segment from {{ org_mapping('segment_bands') }} as bands
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
        fx_mrr,
        month
    from {{ ref('fct_mrr') }}

),

retention_customer_months as (

    select
        segment,
        monthly_retention_base_mrr,
        monthly_net_retained_mrr,
        monthly_gross_retained_mrr,
        trailing_12m_retention_base_mrr,
        trailing_12m_net_retained_mrr,
        trailing_12m_gross_retained_mrr,
        month
    from {{ ref('int_mrr_retention_customer_months') }}

),

renewals as (

    select
        segment,
        is_renewed,
        month
    from {{ ref('int_subscription_renewals_evaluated') }}

),

retention_segmented as (

    select * from retention_customer_months
    union all
    select
        'All' as segment,
        monthly_retention_base_mrr,
        monthly_net_retained_mrr,
        monthly_gross_retained_mrr,
        trailing_12m_retention_base_mrr,
        trailing_12m_net_retained_mrr,
        trailing_12m_gross_retained_mrr,
        month
    from retention_customer_months

),

retention_aggregated as (

    select
        month,
        segment,
        sum(monthly_retention_base_mrr) as monthly_retention_base_mrr,
        sum(monthly_net_retained_mrr) as monthly_net_retained_mrr,
        sum(monthly_gross_retained_mrr) as monthly_gross_retained_mrr,
        sum(trailing_12m_retention_base_mrr) as trailing_12m_retention_base_mrr,
        sum(trailing_12m_net_retained_mrr) as trailing_12m_net_retained_mrr,
        sum(trailing_12m_gross_retained_mrr) as trailing_12m_gross_retained_mrr
    from retention_segmented
    group by month, segment

),

renewals_segmented as (

    select * from renewals
    union all
    select
        'All' as segment,
        is_renewed,
        month
    from renewals

),

renewals_aggregated as (

    select
        month,
        segment,
        count(*) as renewals_due,
        sum(case when is_renewed then 1 else 0 end) as renewals_renewed
    from renewals_segmented
    group by month, segment

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
        fx_mrr,
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
        sum(fx_mrr) as fx_mrr,
        sum(case when mrr > 0 then 1 else 0 end) as customers,
        sum(case when movement = 'new' then 1 else 0 end) as new_customers,
        sum(case when movement = 'reactivation' then 1 else 0 end) as reactivation_customers,
        sum(case when movement = 'expansion' then 1 else 0 end) as expansion_customers,
        sum(case when movement = 'contraction' then 1 else 0 end) as contraction_customers,
        sum(case when movement = 'churn' then 1 else 0 end) as churn_customers,
        sum(case when fx_mrr <> 0 then 1 else 0 end) as fx_customers,
        sum(case when mrr is null then 1 else 0 end) as mrr_unconverted_customers,
        sum(case when movement = 'unconverted' then 1 else 0 end) as unconverted_movements
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
        cast(coalesce(aggregated.fx_mrr, 0) as decimal(18, 2)) as fx_mrr,
        cast(coalesce(aggregated.customers, 0) as bigint) as customers,
        cast(coalesce(aggregated.new_customers, 0) as bigint) as new_customers,
        cast(coalesce(aggregated.reactivation_customers, 0) as bigint)
            as reactivation_customers,
        cast(coalesce(aggregated.expansion_customers, 0) as bigint) as expansion_customers,
        cast(coalesce(aggregated.contraction_customers, 0) as bigint) as contraction_customers,
        cast(coalesce(aggregated.churn_customers, 0) as bigint) as churn_customers,
        cast(coalesce(aggregated.fx_customers, 0) as bigint) as fx_customers,
        cast(coalesce(aggregated.mrr_unconverted_customers, 0) as bigint)
            as mrr_unconverted_customers,
        cast(coalesce(aggregated.unconverted_movements, 0) as bigint) as unconverted_movements,
        cast(coalesce(retention_aggregated.monthly_retention_base_mrr, 0) as decimal(18, 2))
            as monthly_retention_base_mrr,
        cast(coalesce(retention_aggregated.monthly_net_retained_mrr, 0) as decimal(18, 2))
            as monthly_net_retained_mrr,
        cast(coalesce(retention_aggregated.monthly_gross_retained_mrr, 0) as decimal(18, 2))
            as monthly_gross_retained_mrr,
        cast(
            coalesce(retention_aggregated.trailing_12m_retention_base_mrr, 0)
            as decimal(18, 2)
        ) as trailing_12m_retention_base_mrr,
        cast(
            coalesce(retention_aggregated.trailing_12m_net_retained_mrr, 0) as decimal(18, 2)
        ) as trailing_12m_net_retained_mrr,
        cast(
            coalesce(retention_aggregated.trailing_12m_gross_retained_mrr, 0)
            as decimal(18, 2)
        ) as trailing_12m_gross_retained_mrr,
        cast(coalesce(renewals_aggregated.renewals_due, 0) as bigint) as renewals_due,
        cast(coalesce(renewals_aggregated.renewals_renewed, 0) as bigint) as renewals_renewed,
        spine.month
    from spine
    left join aggregated
        on
            spine.month = aggregated.month
            and spine.segment = aggregated.segment
    left join retention_aggregated
        on
            spine.month = retention_aggregated.month
            and spine.segment = retention_aggregated.segment
    left join renewals_aggregated
        on
            spine.month = renewals_aggregated.month
            and spine.segment = renewals_aggregated.segment

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
        '{{ setting("reporting_currency") }}' as reporting_currency,
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
        fx_mrr,
        customers,
        starting_customers,
        new_customers,
        reactivation_customers,
        expansion_customers,
        contraction_customers,
        churn_customers,
        fx_customers,
        mrr_unconverted_customers,
        unconverted_movements,
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
        cast(
            monthly_net_retained_mrr as decimal(18, 2)
        ) as monthly_net_revenue_retention_numerator,
        cast(
            monthly_retention_base_mrr as decimal(18, 2)
        ) as monthly_net_revenue_retention_denominator,
        cast(
            case
                when monthly_retention_base_mrr > 0
                    then
                        cast(monthly_net_retained_mrr as double)
                        / monthly_retention_base_mrr
            end as double
        ) as monthly_net_revenue_retention_rate,
        cast(
            monthly_gross_retained_mrr as decimal(18, 2)
        ) as monthly_gross_revenue_retention_numerator,
        cast(
            monthly_retention_base_mrr as decimal(18, 2)
        ) as monthly_gross_revenue_retention_denominator,
        cast(
            case
                when monthly_retention_base_mrr > 0
                    then
                        cast(monthly_gross_retained_mrr as double)
                        / monthly_retention_base_mrr
            end as double
        ) as monthly_gross_revenue_retention_rate,
        cast(
            trailing_12m_net_retained_mrr as decimal(18, 2)
        ) as trailing_12m_net_revenue_retention_numerator,
        cast(
            trailing_12m_retention_base_mrr as decimal(18, 2)
        ) as trailing_12m_net_revenue_retention_denominator,
        cast(
            case
                when trailing_12m_retention_base_mrr > 0
                    then
                        cast(trailing_12m_net_retained_mrr as double)
                        / trailing_12m_retention_base_mrr
            end as double
        ) as trailing_12m_net_revenue_retention_rate,
        cast(
            trailing_12m_gross_retained_mrr as decimal(18, 2)
        ) as trailing_12m_gross_revenue_retention_numerator,
        cast(
            trailing_12m_retention_base_mrr as decimal(18, 2)
        ) as trailing_12m_gross_revenue_retention_denominator,
        cast(
            case
                when trailing_12m_retention_base_mrr > 0
                    then
                        cast(trailing_12m_gross_retained_mrr as double)
                        / trailing_12m_retention_base_mrr
            end as double
        ) as trailing_12m_gross_revenue_retention_rate,
        cast(
            renewals_renewed as bigint
        ) as renewal_numerator,
        cast(
            renewals_due as bigint
        ) as renewal_denominator,
        cast(
            case
                when renewals_due > 0
                    then
                        cast(renewals_renewed as double)
                        / renewals_due
            end as double
        ) as renewal_rate,
        cast(
            expansion_customers as bigint
        ) as upsell_customer_numerator,
        cast(
            starting_customers as bigint
        ) as upsell_customer_denominator,
        cast(
            case
                when starting_customers > 0
                    then
                        cast(expansion_customers as double)
                        / starting_customers
            end as double
        ) as upsell_customer_rate,
        cast(
            expansion_mrr as decimal(18, 2)
        ) as upsell_mrr_numerator,
        cast(
            starting_mrr as decimal(18, 2)
        ) as upsell_mrr_denominator,
        cast(
            case
                when starting_mrr > 0
                    then
                        cast(expansion_mrr as double)
                        / starting_mrr
            end as double
        ) as upsell_mrr_rate,
        month
    from with_start

)

select * from final
