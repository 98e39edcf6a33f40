-- One row per stage an opportunity entered (consecutive history rows in the same stage are one
-- stay): when it entered and left, time in stage, and whether the move was a regression to an
-- earlier stage (int_opportunity_stages_resolved: the OpportunityStage export, else the seed
-- opportunity_stages, else placed by probability).
-- Incremental by opportunity (macros/funnel/affected_marts.sql): `_inputs_signature` (on the
-- first stay) signs an opportunity's history rows and the order and closed flag of each stage
-- they name. A run recomputes the opportunities of fct_opportunities whose signature is not
-- the stored one (new, a history row added, backdated or rewritten, a stage re-ordered) and
-- the opportunities with no history in fct_opportunities any more (a deleted deal), found in
-- one pass by the first pre-hook and kept with their signatures for this SQL; the second
-- deletes the rows of the gone ones. Nothing here depends on the current day: the open stay
-- has no exit time.
{{ config(**affected_marts_config('opportunity_id', [
    "{{ revops.opportunity_stage_history_keep_affected() }}",
    "{{ revops.delete_kept_gone_keys('opportunities', 'opportunity_id') }}",
])) }}

with

{%- if is_incremental() %}

affected_opportunities as (

    -- found by the pre-hook with their signatures now (null: gone), before it deleted their rows
    select
        affected.opportunity_id,
        affected.inputs_signature
    from {{ kept_affected_keys_relation(
        'opportunities', opportunity_stage_history_affected_opportunities(),
    ) }} as affected

),

signatures as (

    select
        opportunity_id,
        inputs_signature
    from affected_opportunities
    where inputs_signature is not null

),
{%- else %}

signatures as (

    {{ opportunity_stage_history_signatures() }}

),
{%- endif %}

history as (

    select
        opportunity_history_id,
        opportunity_id,
        stage_name,
        changed_at
    from {{ ref('int_crm_opportunity_history_unioned') }}
    {%- if is_incremental() %}
    where opportunity_id in (select affected.opportunity_id from affected_opportunities as affected)
    {%- endif %}

),

opportunities as (

    select opportunity_id from {{ ref('fct_opportunities') }}

),

stages as (

    select
        stage_name,
        stage_order,
        is_closed
    from {{ ref('int_opportunity_stages_resolved') }}

),

ordered as (

    select
        history.opportunity_id,
        history.stage_name,
        history.changed_at,
        lag(history.stage_name) over (
            partition by history.opportunity_id
            order by history.changed_at, history.opportunity_history_id
        ) as previous_stage_name,
        row_number() over (
            partition by history.opportunity_id
            order by history.changed_at, history.opportunity_history_id
        ) as row_in_history
    from history
    inner join opportunities
        on history.opportunity_id = opportunities.opportunity_id

),

entries as (

    select *
    from ordered
    where previous_stage_name is null or previous_stage_name <> stage_name

),

sequenced as (

    select
        entries.opportunity_id,
        entries.stage_name,
        entries.previous_stage_name,
        entries.changed_at as entered_at,
        lead(entries.changed_at) over (
            partition by entries.opportunity_id order by entries.changed_at, entries.row_in_history
        ) as exited_at,
        -- bigint on every engine (Spark's row_number is an int)
        cast(row_number() over (
            partition by entries.opportunity_id order by entries.changed_at, entries.row_in_history
        ) as bigint) as stage_sequence
    from entries

),

final as (

    select
        {{ surrogate_key(["sequenced.opportunity_id", "sequenced.stage_sequence"]) }}
            as stage_history_id,
        sequenced.opportunity_id,
        sequenced.stage_name,
        sequenced.previous_stage_name,
        sequenced.stage_sequence,
        stages.stage_order,
        cast({{ dbt.datediff("sequenced.entered_at", "sequenced.exited_at", "second") }} as double)  -- noqa: LT05
        / 86400
            as days_in_stage,
        coalesce(stages.stage_order < previous_stages.stage_order, false) as is_regression,
        coalesce(stages.is_closed, false) as is_closed_stage,
        sequenced.entered_at,
        sequenced.exited_at,
        -- bookkeeping of the incremental runs (on the first stay)
        case when sequenced.stage_sequence = 1 then signatures.inputs_signature end
            as _inputs_signature
    from sequenced
    left join stages
        on sequenced.stage_name = stages.stage_name
    left join stages as previous_stages
        on sequenced.previous_stage_name = previous_stages.stage_name
    left join signatures
        on sequenced.opportunity_id = signatures.opportunity_id

)

select * from final
