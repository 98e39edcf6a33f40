-- One row per month x attribution model: return on ad spend and marketing ROI, apart.
-- ROAS = attributed bookings / ad spend. Marketing ROI = (attributed gross profit - full
-- marketing cost) / full marketing cost, full cost = ad spend + marketing program and event
-- expenses (setting marketing_program_expense_categories). Attributed bookings: the won amount
-- fct_attribution credits to touches (not the `unattributed` row), by the opportunity's close
-- month. Each is null unless the month is closed and the sources it reads were delivered
-- through its end (sales_ops_metrics' completeness flags).
{%- set margin = setting('gross_margin') %}
{%- set models = ['first_touch', 'last_touch', 'linear', 'w_shaped'] %}
with

costs as (

    select
        month,
        ad_spend,
        marketing_program_expenses,
        is_month_closed,
        is_ad_spend_complete,
        is_expenses_complete,
        is_crm_complete
    from {{ ref('sales_ops_metrics') }}
    where segment = 'All'

),

opportunities as (

    select
        opportunity_id,
        close_date
    from {{ ref('fct_opportunities') }}

),

attribution as (

    select
        opportunity_id,
        touch_id,
        attribution_model,
        won_amount_credited
    from {{ ref('fct_attribution') }}

),

attribution_models as (

    {%- for model in models %}
    select '{{ model }}' as attribution_model
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

attributed_bookings as (

    select
        attribution.attribution_model,
        cast({{ dbt.date_trunc('month', 'opportunities.close_date') }} as date) as month,  -- noqa: RF04, LT05
        sum(attribution.won_amount_credited) as attributed_bookings
    from attribution
    inner join opportunities
        on attribution.opportunity_id = opportunities.opportunity_id
    where
        attribution.won_amount_credited is not null
        -- the `unattributed` row (no touch) is revenue marketing did not touch
        and attribution.touch_id is not null
    group by
        attribution.attribution_model,
        cast({{ dbt.date_trunc('month', 'opportunities.close_date') }} as date)

),

joined as (

    select
        costs.month,
        attribution_models.attribution_model,
        cast(coalesce(attributed_bookings.attributed_bookings, 0) as decimal(18, 2))
            as attributed_bookings,
        costs.ad_spend,
        costs.marketing_program_expenses,
        costs.is_month_closed and costs.is_ad_spend_complete and costs.is_crm_complete
            as is_roas_complete,
        costs.is_month_closed
        and costs.is_ad_spend_complete
        and costs.is_expenses_complete
        and costs.is_crm_complete as is_complete
    from costs
    cross join attribution_models
    left join attributed_bookings
        on
            costs.month = attributed_bookings.month
            and attribution_models.attribution_model = attributed_bookings.attribution_model

),

parts as (

    select
        *,
        cast(attributed_bookings * {{ margin }} as decimal(18, 2)) as attributed_gross_profit,
        cast(ad_spend + marketing_program_expenses as decimal(18, 2)) as marketing_cost,
        case when is_roas_complete then attributed_bookings end as roas_numerator,
        case when is_roas_complete then ad_spend end as roas_denominator
    from joined

),

returns as (

    select
        *,
        case
            when is_complete
                then cast(attributed_gross_profit - marketing_cost as decimal(18, 2))
        end as marketing_roi_numerator,
        case when is_complete then marketing_cost end as marketing_roi_denominator
    from parts

),

final as (

    select
        attribution_model,
        attributed_bookings,
        attributed_gross_profit,
        ad_spend,
        marketing_program_expenses,
        marketing_cost,
        roas_numerator,
        roas_denominator,
        {{ ratio('roas_numerator', 'roas_denominator') }} as roas,
        marketing_roi_numerator,
        marketing_roi_denominator,
        {{ ratio('marketing_roi_numerator', 'marketing_roi_denominator') }} as marketing_roi,
        is_roas_complete,
        is_complete,
        month
    from returns

)

select * from final
