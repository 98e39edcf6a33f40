-- One row per lead per funnel stage it reached (lead, mql, sql, opportunity, won), with the
-- time since the previous stage it reached. Same leads and stage times as fct_lead_funnel.
-- Segment: the lead's for the lead, MQL and SQL stages, the account's from conversion on
-- (opportunity, won: fct_lead_funnel.segment_of_record).
-- The previous stage a lead reached is the latest earlier stage present in its row (stages
-- come in a fixed order), so no window over the leads is needed.
with

funnel as (

    select
        lead_id,
        segment,
        segment_of_record,
        channel,
        created_at,
        mql_at,
        sql_at,
        opportunity_created_at,
        closed_at,
        is_won
    from {{ ref('fct_lead_funnel') }}

),

stages as (

    select
        lead_id,
        segment,
        channel,
        'lead' as funnel_stage,
        1 as stage_order,
        created_at as reached_at,
        cast(null as {{ dbt.type_timestamp() }}) as previous_stage_at
    from funnel
    union all
    select
        lead_id,
        segment,
        channel,
        'mql' as funnel_stage,
        2 as stage_order,
        mql_at as reached_at,
        created_at as previous_stage_at
    from funnel
    where mql_at is not null
    union all
    select
        lead_id,
        segment,
        channel,
        'sql' as funnel_stage,
        3 as stage_order,
        sql_at as reached_at,
        coalesce(mql_at, created_at) as previous_stage_at
    from funnel
    where sql_at is not null
    union all
    select
        lead_id,
        segment_of_record as segment,  -- noqa: RF04
        channel,
        'opportunity' as funnel_stage,
        4 as stage_order,
        opportunity_created_at as reached_at,
        coalesce(sql_at, mql_at, created_at) as previous_stage_at
    from funnel
    where opportunity_created_at is not null
    union all
    select
        lead_id,
        segment_of_record as segment,  -- noqa: RF04
        channel,
        'won' as funnel_stage,
        5 as stage_order,
        closed_at as reached_at,
        coalesce(opportunity_created_at, sql_at, mql_at, created_at) as previous_stage_at
    from funnel
    where is_won

),

final as (

    select
        {{ surrogate_key(["lead_id", "funnel_stage"]) }} as stage_event_id,
        lead_id,
        funnel_stage,
        segment,
        channel,
        stage_order,
        cast({{ dbt.datediff("previous_stage_at", "reached_at", "second") }} as double) / 86400  -- noqa: LT05
            as days_since_previous_stage,
        reached_at,
        previous_stage_at
    from stages

)

select * from final
