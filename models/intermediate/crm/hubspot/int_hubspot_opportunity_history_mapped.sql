-- One row per instant a surviving HubSpot deal's stage, amount, close date or pipeline changed
-- (its exported property history), in the shape of a CRM opportunity history row
-- (int_crm_opportunity_history_unioned): the deal's state right after the change, each
-- property at its latest value at or before that instant. The stage label is the one of the
-- pipeline the deal was in then (a deal moved between pipelines keeps its earlier labels;
-- the stage id as delivered when no pipeline knows it), probability that stage's x 100.
-- Changes of an absorbed deal are dropped (the survivor's history is HubSpot's merged one).
with

deals as (

    select
        deals.deal_id,
        deals.pipeline_id
    from {{ ref('stg_hubspot__deals') }} as deals
    left join {{ ref('int_hubspot_merged_records') }} as merged
        on merged.object_type = 'deal' and deals.deal_id = merged.merged_id
    where merged.merged_id is null

),

changes as (

    select
        history.deal_property_change_id,
        history.deal_id,
        history.property_name,
        history.property_value,
        history.changed_at,
        history._delivery_date,
        history._file_path,
        history._row_number,
        history._loaded_at
    from {{ ref('stg_hubspot__deal_property_history') }} as history
    inner join deals
        on history.deal_id = deals.deal_id
    where history.property_name in ('dealstage', 'amount', 'closedate', 'pipeline')

),

stages as (

    select
        pipeline_id,
        stage_id,
        stage_label,
        probability
    from {{ ref('int_hubspot_deal_stages_labelled') }}

),

instants as (

    -- One per deal and change time; its lineage is that of the change delivered last.
    select
        deal_id,
        changed_at,
        deal_property_change_id,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from (
        select
            changes.*,
            row_number() over (
                partition by changes.deal_id, changes.changed_at
                order by changes.deal_property_change_id desc
            ) as instant_rank
        from changes
    ) as ranked
    where instant_rank = 1

),

values_as_of as (

    select
        instants.deal_id,
        instants.changed_at,
        changes.property_name,
        changes.property_value,
        row_number() over (
            partition by instants.deal_id, instants.changed_at, changes.property_name
            order by changes.changed_at desc, changes.deal_property_change_id desc
        ) as value_rank
    from instants
    inner join changes
        on instants.deal_id = changes.deal_id and instants.changed_at >= changes.changed_at

),

states as (

    select
        deal_id,
        changed_at,
        max(case when property_name = 'dealstage' then property_value end) as deal_stage_id,
        max(case when property_name = 'pipeline' then property_value end) as pipeline_id,
        max(case when property_name = 'amount' then property_value end) as amount_text,
        max(case when property_name = 'closedate' then property_value end) as close_date_text
    from values_as_of
    where value_rank = 1
    group by deal_id, changed_at

),

final as (

    select
        {{ dbt.concat([
            "instants.deal_property_change_id", "':state'"
        ]) }} as opportunity_history_id,
        'hubspot' as crm_source,
        states.deal_id as opportunity_id,
        coalesce(stages.stage_label, states.deal_stage_id) as stage_name,
        cast({{ try_cast('states.amount_text', 'decimal(18, 2)') }} as decimal(18, 2)) as amount,
        cast(stages.probability * 100 as decimal(5, 2)) as probability,
        cast({{ parse_utc_timestamp('states.close_date_text') }} as date) as close_date,
        states.changed_at,
        instants._delivery_date,
        instants._file_path,
        instants._row_number,
        instants._loaded_at
    from states
    inner join instants
        on states.deal_id = instants.deal_id and states.changed_at = instants.changed_at
    inner join deals
        on states.deal_id = deals.deal_id
    left join stages
        on
            coalesce(states.pipeline_id, deals.pipeline_id) = stages.pipeline_id
            and states.deal_stage_id = stages.stage_id

)

select * from final
