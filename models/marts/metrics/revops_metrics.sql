-- One row per month x segment (plus `All`): the RevOps metrics (MRR, ARR, CLTV, renewal, upsell,
-- retention, churn, growth, pipeline velocity, ROAS and marketing ROI), each ratio with
-- numerator and denominator.
-- Upsell, retention and revenue churn are FX-neutral (mrr_by_month); fx_mrr is the currency part
-- of the MRR change.
with

sales_ops as (

    select
        month,
        segment,
        mqls,
        ad_spend,
        cltv,
        cltv_capped
    from {{ ref('sales_ops_metrics') }}

),

mrr_months as (

    select
        month,
        segment,
        mrr,
        arr,
        mrr_unconverted_customers,
        fx_mrr,
        renewal_numerator,
        renewal_denominator,
        renewal_rate,
        upsell_customer_numerator,
        upsell_customer_denominator,
        upsell_customer_rate,
        upsell_mrr_numerator,
        upsell_mrr_denominator,
        upsell_mrr_rate,
        monthly_net_revenue_retention_numerator,
        monthly_net_revenue_retention_denominator,
        monthly_net_revenue_retention_rate,
        monthly_gross_revenue_retention_numerator,
        monthly_gross_revenue_retention_denominator,
        monthly_gross_revenue_retention_rate,
        trailing_12m_net_revenue_retention_numerator,
        trailing_12m_net_revenue_retention_denominator,
        trailing_12m_net_revenue_retention_rate,
        trailing_12m_gross_revenue_retention_numerator,
        trailing_12m_gross_revenue_retention_denominator,
        trailing_12m_gross_revenue_retention_rate,
        logo_churn_numerator,
        logo_churn_denominator,
        logo_churn_rate,
        gross_revenue_churn_numerator,
        gross_revenue_churn_denominator,
        gross_revenue_churn_rate
    from {{ ref('mrr_by_month') }}

),

revenue_months as (

    select
        month,
        segment,
        previous_month_mrr,
        previous_year_mrr,
        mrr_growth_mom,
        mrr_growth_yoy,
        unconverted_records,
        recognised_revenue,
        previous_month_recognised_revenue,
        previous_year_recognised_revenue,
        recognised_revenue_growth_mom,
        recognised_revenue_growth_yoy
    from {{ ref('revenue_by_month') }}

),

pipeline_velocity as (

    select
        month,
        segment,
        open_qualified_opportunities,
        trailing_3m_won,
        trailing_3m_lost,
        trailing_3m_won_amount,
        trailing_3m_sales_cycle_days,
        pipeline_velocity_numerator,
        pipeline_velocity_denominator,
        pipeline_velocity_per_day,
        pipeline_velocity_per_month
    from {{ ref('pipeline_velocity_by_month') }}

),

marketing_returns as (

    -- ROAS and marketing ROI of the attribution model the setting names
    select
        month,
        attributed_bookings,
        marketing_cost,
        roas,
        marketing_roi_numerator,
        marketing_roi
    from {{ ref('marketing_returns_by_month') }}
    where attribution_model = '{{ setting("roi_attribution_model") }}'

),

spine as (

    select
        month,
        segment
    from sales_ops
    union
    select
        month,
        segment
    from mrr_months

),

velocity as (

    -- Pipeline velocity: new-business, qualified opportunities (pipeline_velocity_by_month).
    select
        spine.month,
        spine.segment,
        coalesce(sales_ops.mqls, 0) as mqls,
        sales_ops.cltv,
        sales_ops.cltv_capped,
        sales_ops.ad_spend,
        coalesce(pipeline_velocity.open_qualified_opportunities, 0)
            as open_qualified_opportunities,
        coalesce(pipeline_velocity.trailing_3m_won, 0) as trailing_3m_won,
        coalesce(pipeline_velocity.trailing_3m_lost, 0) as trailing_3m_lost,
        coalesce(pipeline_velocity.trailing_3m_won_amount, 0) as trailing_3m_won_amount,
        coalesce(pipeline_velocity.trailing_3m_sales_cycle_days, 0)
            as trailing_3m_sales_cycle_days,
        pipeline_velocity.pipeline_velocity_numerator,
        pipeline_velocity.pipeline_velocity_denominator,
        pipeline_velocity.pipeline_velocity_per_day,
        pipeline_velocity.pipeline_velocity_per_month
    from spine
    left join sales_ops
        on spine.month = sales_ops.month and spine.segment = sales_ops.segment
    left join pipeline_velocity
        on spine.month = pipeline_velocity.month and spine.segment = pipeline_velocity.segment

),

final as (

    select
        velocity.segment,
        cast(coalesce(mrr_months.mrr, 0) as decimal(18, 2)) as mrr,
        cast(coalesce(mrr_months.arr, 0) as decimal(18, 2)) as arr,
        cast(coalesce(mrr_months.mrr_unconverted_customers, 0) as bigint)
            as mrr_unconverted_customers,
        velocity.cltv,
        velocity.cltv_capped,
        mrr_months.renewal_numerator,
        mrr_months.renewal_denominator,
        mrr_months.renewal_rate,
        mrr_months.upsell_customer_numerator,
        mrr_months.upsell_customer_denominator,
        mrr_months.upsell_customer_rate,
        mrr_months.upsell_mrr_numerator,
        mrr_months.upsell_mrr_denominator,
        mrr_months.upsell_mrr_rate,
        velocity.mqls,
        mrr_months.monthly_net_revenue_retention_numerator,
        mrr_months.monthly_net_revenue_retention_denominator,
        mrr_months.monthly_net_revenue_retention_rate,
        mrr_months.monthly_gross_revenue_retention_numerator,
        mrr_months.monthly_gross_revenue_retention_denominator,
        mrr_months.monthly_gross_revenue_retention_rate,
        mrr_months.trailing_12m_net_revenue_retention_numerator,
        mrr_months.trailing_12m_net_revenue_retention_denominator,
        mrr_months.trailing_12m_net_revenue_retention_rate,
        mrr_months.trailing_12m_gross_revenue_retention_numerator,
        mrr_months.trailing_12m_gross_revenue_retention_denominator,
        mrr_months.trailing_12m_gross_revenue_retention_rate,
        mrr_months.logo_churn_numerator,
        mrr_months.logo_churn_denominator,
        mrr_months.logo_churn_rate,
        mrr_months.gross_revenue_churn_numerator,
        mrr_months.gross_revenue_churn_denominator,
        mrr_months.gross_revenue_churn_rate,
        revenue_months.previous_month_mrr,
        cast(coalesce(mrr_months.fx_mrr, 0) as decimal(18, 2)) as fx_mrr,
        revenue_months.previous_year_mrr,
        revenue_months.mrr_growth_mom,
        revenue_months.mrr_growth_yoy,
        revenue_months.recognised_revenue,
        cast(coalesce(revenue_months.unconverted_records, 0) as bigint)
            as revenue_records_unconverted,
        revenue_months.previous_month_recognised_revenue,
        revenue_months.previous_year_recognised_revenue,
        revenue_months.recognised_revenue_growth_mom,
        revenue_months.recognised_revenue_growth_yoy,
        cast(velocity.open_qualified_opportunities as bigint) as open_qualified_opportunities,
        cast(velocity.trailing_3m_won as bigint) as trailing_3m_won,
        cast(velocity.trailing_3m_lost as bigint) as trailing_3m_lost,
        cast(velocity.trailing_3m_won_amount as decimal(18, 2)) as trailing_3m_won_amount,
        cast(velocity.trailing_3m_sales_cycle_days as bigint) as trailing_3m_sales_cycle_days,
        velocity.pipeline_velocity_numerator,
        velocity.pipeline_velocity_denominator,
        velocity.pipeline_velocity_per_day,
        velocity.pipeline_velocity_per_month,
        case
            when velocity.segment = 'All'
                then cast(coalesce(marketing_returns.attributed_bookings, 0) as decimal(18, 2))
        end as attributed_won_revenue,
        velocity.ad_spend as marketing_spend,
        marketing_returns.marketing_cost,
        marketing_returns.roas,
        marketing_returns.marketing_roi_numerator,
        marketing_returns.marketing_roi,
        velocity.month
    from velocity
    left join mrr_months
        on velocity.month = mrr_months.month and velocity.segment = mrr_months.segment
    left join revenue_months
        on velocity.month = revenue_months.month and velocity.segment = revenue_months.segment
    left join marketing_returns
        on velocity.month = marketing_returns.month and velocity.segment = 'All'

)

select * from final
