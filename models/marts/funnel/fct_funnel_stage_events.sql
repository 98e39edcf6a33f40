-- One row per lead per funnel stage it reached (lead, mql, sql, opportunity, won), with the
-- time since the previous stage it reached. Same leads and stage times as fct_lead_funnel.
-- Segment: the lead's for the lead, MQL and SQL stages, the account's from conversion on
-- (opportunity, won: fct_lead_funnel.segment_of_record).
-- The previous stage a lead reached is the latest earlier stage present in its row (stages
-- come in a fixed order), so no window over the leads is needed.
-- Incremental by lead (macros/funnel/affected_marts.sql): a lead's events are decided by its
-- fct_lead_funnel row, itself decided by that row's `_inputs_signature`, which the lead's
-- `lead` event keeps. A run recomputes the leads whose funnel signature is not the stored one
-- (new or changed funnel rows) and the leads gone from fct_lead_funnel, found in one pass by
-- the first pre-hook and kept for this SQL; the second deletes the events of the gone ones.
-- Nothing here depends on the current day.
{{ config(**affected_marts_config('lead_id', [
    "{{ revops.funnel_stage_events_keep_affected() }}",
    "{{ revops.delete_kept_gone_keys('leads', 'lead_id') }}",
])) }}

with

{%- if is_incremental() %}

affected_leads as (

    -- found by the pre-hook, before it deleted their rows
    select affected.lead_id
    from {{ kept_affected_keys_relation('leads', funnel_stage_events_affected_leads()) }}
        as affected

),
{%- endif %}

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
        is_won,
        _inputs_signature
    from {{ ref('fct_lead_funnel') }}
    where {{ among_affected_leads('lead_id') }}

),

stages as (

    select
        lead_id,
        segment,
        channel,
        'lead' as funnel_stage,
        1 as stage_order,
        created_at as reached_at,
        cast(null as {{ dbt.type_timestamp() }}) as previous_stage_at,
        _inputs_signature
    from funnel
    union all
    select
        lead_id,
        segment,
        channel,
        'mql' as funnel_stage,
        2 as stage_order,
        mql_at as reached_at,
        created_at as previous_stage_at,
        cast(null as {{ dbt.type_bigint() }}) as _inputs_signature
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
        coalesce(mql_at, created_at) as previous_stage_at,
        cast(null as {{ dbt.type_bigint() }}) as _inputs_signature
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
        coalesce(sql_at, mql_at, created_at) as previous_stage_at,
        cast(null as {{ dbt.type_bigint() }}) as _inputs_signature
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
        coalesce(opportunity_created_at, sql_at, mql_at, created_at) as previous_stage_at,
        cast(null as {{ dbt.type_bigint() }}) as _inputs_signature
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
        previous_stage_at,
        -- bookkeeping of the incremental runs (on the lead stage: the funnel row's signature)
        _inputs_signature
    from stages

)

select * from final
