-- One row per month x segment (plus `All`) x deal category (new_business, expansion, renewal,
-- other: the org mapping opportunity_types): the opportunity metrics of sales_ops_metrics per
-- deal category. Created by created month; won, lost, won amount and sales cycle by close
-- month; time to close by the close month of the lead's converted opportunity.
{%- set measures = opportunity_measures() %}
with

opportunities as (

    select
        opportunity_id,
        segment,
        deal_category,
        amount,
        amount_reporting,
        sales_cycle_days,
        is_closed,
        is_won,
        created_date,
        close_date
    from {{ ref('fct_opportunities') }}

),

lead_funnel as (

    select
        opportunity_id,
        -- time to close is counted at the close, after conversion: the account's segment
        segment_of_record as segment,  -- noqa: RF04
        created_at,
        closed_at,
        is_won
    from {{ ref('fct_lead_funnel') }}

),

type_map as (

    select deal_category
    from {{ org_mapping('opportunity_types') }}

),

months as (

    select month_start_date
    from {{ ref('util_months') }}

),

deal_categories as (

    -- Every category the mapping names, and `other` (an unmapped or empty type).
    select deal_category from type_map
    union
    select 'other' as deal_category

),

created_counts as (

    select
        segment,
        deal_category,
        cast({{ dbt.date_trunc('month', 'created_date') }} as date) as month,  -- noqa: RF04
        count(*) as opportunities_created
    from opportunities
    group by
        segment,
        deal_category,
        cast({{ dbt.date_trunc('month', 'created_date') }} as date)

),

closed_counts as (

    select
        segment,
        deal_category,
        cast({{ dbt.date_trunc('month', 'close_date') }} as date) as month,  -- noqa: RF04
        sum(case when is_won then 1 else 0 end) as opportunities_won,
        sum(case when is_won then 0 else 1 end) as opportunities_lost,
        -- Known, converted amounts only; the won deals left out are counted beside them.
        sum(case when is_won then amount_reporting end) as won_amount,
        sum(case when is_won and amount_reporting is not null then 1 else 0 end)
            as won_with_amount,
        sum(case when is_won and amount is null then 1 else 0 end) as won_without_amount,
        sum(
            case when is_won and amount is not null and amount_reporting is null then 1 else 0 end
        ) as won_unconverted,
        sum(case when is_won then sales_cycle_days else 0 end) as sales_cycle_days
    from opportunities
    where is_closed and close_date is not null
    group by
        segment,
        deal_category,
        cast({{ dbt.date_trunc('month', 'close_date') }} as date)

),

lead_close_counts as (

    -- Lead created -> its converted opportunity closed won; the lead's segment, the
    -- opportunity's deal category.
    select
        lead_funnel.segment,
        opportunities.deal_category,
        cast({{ dbt.date_trunc('month', 'lead_funnel.closed_at') }} as date) as month,  -- noqa: RF04, LT05
        sum({{ dbt.datediff('lead_funnel.created_at', 'lead_funnel.closed_at', 'day') }})
            as time_to_close_days,
        count(*) as time_to_close_leads
    from lead_funnel
    inner join opportunities
        on lead_funnel.opportunity_id = opportunities.opportunity_id
    where lead_funnel.is_won and lead_funnel.closed_at is not null
    group by
        lead_funnel.segment,
        opportunities.deal_category,
        cast({{ dbt.date_trunc('month', 'lead_funnel.closed_at') }} as date)

),

activity_months as (

    select month from created_counts
    union all
    select month from closed_counts
    union all
    select month from lead_close_counts

),

last_activity as (

    select max(month) as last_month
    from activity_months

),

segments as (

    select segment from created_counts
    union
    select segment from closed_counts
    union
    select segment from lead_close_counts

),

spine as (

    select
        months.month_start_date as month,  -- noqa: RF04
        segments.segment,
        deal_categories.deal_category
    from months
    cross join segments
    cross join deal_categories
    cross join last_activity
    where months.month_start_date <= last_activity.last_month

),

counted as (

    select
        spine.month,
        spine.segment,
        spine.deal_category,
        cast(coalesce(created_counts.opportunities_created, 0) as bigint)
            as opportunities_created,
        cast(coalesce(closed_counts.opportunities_won, 0) as bigint) as opportunities_won,
        cast(coalesce(closed_counts.opportunities_lost, 0) as bigint) as opportunities_lost,
        cast(coalesce(closed_counts.won_amount, 0) as decimal(18, 2)) as won_amount,
        cast(coalesce(closed_counts.won_with_amount, 0) as bigint) as won_with_amount,
        cast(coalesce(closed_counts.won_without_amount, 0) as bigint) as won_without_amount,
        cast(coalesce(closed_counts.won_unconverted, 0) as bigint) as won_unconverted,
        cast(coalesce(closed_counts.sales_cycle_days, 0) as bigint) as sales_cycle_days,
        cast(coalesce(lead_close_counts.time_to_close_days, 0) as bigint) as time_to_close_days,
        cast(coalesce(lead_close_counts.time_to_close_leads, 0) as bigint)
            as time_to_close_leads
    from spine
    left join created_counts
        on
            spine.month = created_counts.month
            and spine.segment = created_counts.segment
            and spine.deal_category = created_counts.deal_category
    left join closed_counts
        on
            spine.month = closed_counts.month
            and spine.segment = closed_counts.segment
            and spine.deal_category = closed_counts.deal_category
    left join lead_close_counts
        on
            spine.month = lead_close_counts.month
            and spine.segment = lead_close_counts.segment
            and spine.deal_category = lead_close_counts.deal_category

),

with_all as (

    {{ with_all_segment('counted', ['month', 'deal_category'], measures) }}

),

final as (

    select
        deal_category,
        segment,
        opportunities_created,
        opportunities_won,
        opportunities_lost,
        won_amount,
        won_with_amount,
        won_without_amount,
        won_unconverted,
        opportunities_won as close_rate_numerator,
        opportunities_won + opportunities_lost as close_rate_denominator,
        {{ ratio('opportunities_won', 'opportunities_won + opportunities_lost') }} as close_rate,
        {{ ratio('opportunities_won', 'opportunities_lost') }} as win_loss_ratio,
        sales_cycle_days,
        {{ ratio('sales_cycle_days', 'opportunities_won') }} as avg_sales_cycle_days,
        {{ ratio('won_amount', 'won_with_amount') }} as avg_deal_size,
        time_to_close_days,
        time_to_close_leads,
        {{ ratio('time_to_close_days', 'time_to_close_leads') }} as avg_time_to_close_days,
        month
    from with_all

)

select * from final
