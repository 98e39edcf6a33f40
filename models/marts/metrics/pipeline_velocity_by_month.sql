-- One row per month x segment (plus `All`): sales pipeline velocity on one basis, the
-- new-business opportunities that qualified (entered an open stage ordered after the stage the
-- setting `pipeline_velocity_past_stage` names): those open at month end, and those closed in
-- the trailing 3 months (this and the 2 previous) for win rate, deal size and cycle. The parts
-- are counts and sums, so the `All` row is the sum of the segment rows and velocity is
-- recomputed from summed parts at any grain.
{%- set past_stage = setting('pipeline_velocity_past_stage') %}
{%- set measures = [
    ['open_qualified_opportunities', 'bigint'],
    ['trailing_3m_won', 'bigint'],
    ['trailing_3m_lost', 'bigint'],
    ['trailing_3m_won_amount', 'decimal(18, 2)'],
    ['trailing_3m_won_with_amount', 'bigint'],
    ['trailing_3m_sales_cycle_days', 'bigint'],
] %}
with

sales_ops as (

    select
        month,
        segment
    from {{ ref('sales_ops_metrics') }}
    where segment <> 'All'

),

opportunities as (

    select
        opportunity_id,
        segment,
        amount_reporting,
        sales_cycle_days,
        is_closed,
        is_won,
        close_date
    from {{ ref('fct_opportunities') }}
    where deal_category = 'new_business'

),

stage_history as (

    select
        opportunity_id,
        stage_order,
        is_closed_stage,
        entered_at,
        exited_at
    from {{ ref('fct_opportunity_stage_history') }}

),

stages as (

    select
        stage_name,
        stage_order
    from {{ ref('int_opportunity_stages_resolved') }}

),

past_stage as (

    -- Unknown stage name: no opportunity qualifies (assert_pipeline_velocity_stage_is_known).
    select min(stage_order) as stage_order
    from stages
    where stage_name = '{{ past_stage }}'

),

qualified as (

    -- When each opportunity first entered an open stage after the qualifying one; a later
    -- move back does not undo it.
    select
        stage_history.opportunity_id,
        min(stage_history.entered_at) as qualified_at
    from stage_history
    cross join past_stage
    where
        not stage_history.is_closed_stage
        and stage_history.stage_order > past_stage.stage_order
    group by stage_history.opportunity_id

),

month_ends as (

    select distinct
        month,
        cast({{ dbt.dateadd('month', 1, 'month') }} as timestamp) as next_month_at
    from sales_ops

),

open_at_month_end as (

    select
        month_ends.month,
        opportunities.segment,
        count(distinct stage_history.opportunity_id) as open_qualified_opportunities
    from month_ends
    inner join stage_history
        on
            month_ends.next_month_at > stage_history.entered_at
            and (
                stage_history.exited_at is null
                or month_ends.next_month_at <= stage_history.exited_at
            )
    inner join opportunities
        on stage_history.opportunity_id = opportunities.opportunity_id
    inner join qualified
        on stage_history.opportunity_id = qualified.opportunity_id
    where not stage_history.is_closed_stage and qualified.qualified_at < month_ends.next_month_at
    group by month_ends.month, opportunities.segment

),

closes as (

    select
        opportunities.segment,
        opportunities.is_won,
        opportunities.amount_reporting,
        opportunities.sales_cycle_days,
        cast({{ dbt.date_trunc('month', 'opportunities.close_date') }} as date) as close_month
    from opportunities
    inner join qualified
        on opportunities.opportunity_id = qualified.opportunity_id
    where opportunities.is_closed and opportunities.close_date is not null

),

trailing_closes as (

    select
        sales_ops.month,
        sales_ops.segment,
        sum(case when closes.is_won then 1 else 0 end) as trailing_3m_won,
        sum(case when closes.is_won then 0 else 1 end) as trailing_3m_lost,
        sum(case when closes.is_won then closes.amount_reporting end) as trailing_3m_won_amount,
        sum(case when closes.is_won and closes.amount_reporting is not null then 1 else 0 end)
            as trailing_3m_won_with_amount,
        sum(case when closes.is_won then closes.sales_cycle_days else 0 end)
            as trailing_3m_sales_cycle_days
    from sales_ops
    inner join closes
        on
            sales_ops.segment = closes.segment
            -- closed this month or in the 2 before it
            and sales_ops.month >= closes.close_month
            and sales_ops.month <= cast({{ dbt.dateadd('month', 2, 'closes.close_month') }} as date)
    group by sales_ops.month, sales_ops.segment

),

segment_rows as (

    select
        sales_ops.month,
        sales_ops.segment,
        {{ summed_measures('open_at_month_end', measures[0:1]) }},
        {{ summed_measures('trailing_closes', measures[1:]) }}
    from sales_ops
    left join open_at_month_end
        on
            sales_ops.month = open_at_month_end.month
            and sales_ops.segment = open_at_month_end.segment
    left join trailing_closes
        on
            sales_ops.month = trailing_closes.month
            and sales_ops.segment = trailing_closes.segment
    group by sales_ops.month, sales_ops.segment

),

with_all as (

    {{ with_all_segment('segment_rows', ['month'], measures) }}

),

velocity as (

    select
        *,
        -- open x (won / (won + lost)) x (amount / won with amount) / (cycle days / won), as one
        -- fraction; null when any of its denominators is 0.
        cast(open_qualified_opportunities as double)
        * trailing_3m_won
        * cast(trailing_3m_won_amount as double)
        * trailing_3m_won as pipeline_velocity_numerator,
        cast(trailing_3m_won + trailing_3m_lost as double)
        * trailing_3m_won_with_amount
        * trailing_3m_sales_cycle_days as pipeline_velocity_denominator
    from with_all

),

final as (

    select
        segment,
        open_qualified_opportunities,
        trailing_3m_won,
        trailing_3m_lost,
        trailing_3m_won_amount,
        trailing_3m_won_with_amount,
        trailing_3m_sales_cycle_days,
        {{ ratio('trailing_3m_won', 'trailing_3m_won + trailing_3m_lost') }} as win_rate,
        {{ ratio('trailing_3m_won_amount', 'trailing_3m_won_with_amount') }} as avg_deal_size,
        {{ ratio('trailing_3m_sales_cycle_days', 'trailing_3m_won') }} as avg_sales_cycle_days,
        pipeline_velocity_numerator,
        pipeline_velocity_denominator,
        {{ ratio('pipeline_velocity_numerator', 'pipeline_velocity_denominator') }}
            as pipeline_velocity_per_day,
        {{ ratio('pipeline_velocity_numerator', 'pipeline_velocity_denominator') }} * 30.4375
            as pipeline_velocity_per_month,
        month
    from velocity

)

select * from final
