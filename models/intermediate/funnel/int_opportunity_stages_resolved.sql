-- One row per opportunity stage the org uses (in the OpportunityStage export, on an
-- opportunity or in its history): its order, default probability, forecast category and
-- closed / won flags. The export wins, then the mapping seed opportunity_stages; a stage in
-- neither (the fallback) is placed by probability right after the last known open stage whose
-- default probability is not higher, or after every stage when its opportunities are closed.
with

exported as (

    select
        stage_name,
        sort_order,
        forecast_category,
        default_probability,
        is_closed,
        is_won
    from {{ ref('int_crm_opportunity_stages_unioned') }}

),

mapped as (

    select
        stage_map.stage_name,
        stage_map.stage_order,
        stage_map.forecast_category,
        stage_map.default_probability,
        stage_map.is_closed,
        stage_map.is_won
    from {{ org_mapping('opportunity_stages') }} as stage_map

),

opportunity_rows as (

    select
        stage_name,
        probability,
        is_closed,
        is_won
    from {{ ref('int_crm_opportunities_unioned') }}
    union all
    select
        stage_name,
        probability,
        cast(null as boolean) as is_closed,
        cast(null as boolean) as is_won
    from {{ ref('int_crm_opportunity_history_unioned') }}

),

observed as (

    -- What the rows in a stage say about it: the highest probability they carry, and whether
    -- any current opportunity in it is closed / won.
    select
        stage_name,
        max(probability) as observed_probability,
        max(case when is_closed then 1 else 0 end) = 1 as is_closed,
        max(case when is_won then 1 else 0 end) = 1 as is_won,
        count(*) as stage_rows
    from opportunity_rows
    group by stage_name

),

stage_names as (

    select stage_name from exported
    union
    select stage_name from observed

),

resolved as (

    select
        stage_names.stage_name,
        case
            when exported.stage_name is not null then 'export'
            when mapped.stage_name is not null then 'mapping'
            else 'fallback'
        end as stage_source,
        case
            when exported.stage_name is not null then exported.forecast_category
            else mapped.forecast_category
        end as forecast_category,
        case
            when exported.stage_name is not null then exported.sort_order
            else mapped.stage_order
        end as known_position,
        coalesce(
            exported.default_probability,
            mapped.default_probability,
            observed.observed_probability
        ) as default_probability,
        coalesce(exported.is_closed, mapped.is_closed, observed.is_closed, false) as is_closed,
        coalesce(exported.is_won, mapped.is_won, observed.is_won, false) as is_won,
        coalesce(observed.stage_rows, 0) as stage_rows
    from stage_names
    left join exported
        on stage_names.stage_name = exported.stage_name
    left join mapped
        on stage_names.stage_name = mapped.stage_name
    left join observed
        on stage_names.stage_name = observed.stage_name

),

anchors as (

    -- An open stage without a known position follows the last positioned open stage whose
    -- default probability is not higher than its own.
    select
        unplaced.stage_name,
        max(placed.known_position) as anchor_position
    from resolved as unplaced
    left join resolved as placed
        on
            unplaced.default_probability >= placed.default_probability
            and placed.known_position is not null
            and not placed.is_closed
    where unplaced.known_position is null
    group by unplaced.stage_name

),

last_position as (

    select coalesce(max(known_position), 0) as max_position from resolved

),

positioned as (

    select
        resolved.stage_name,
        resolved.stage_source,
        resolved.forecast_category,
        resolved.default_probability,
        resolved.is_closed,
        resolved.is_won,
        resolved.stage_rows,
        case
            when resolved.known_position is not null
                then cast(resolved.known_position as decimal(18, 1))
            when resolved.is_closed
                then cast(last_position.max_position + 1 as decimal(18, 1))
            else cast(coalesce(anchors.anchor_position, 0) as decimal(18, 1)) + 0.5
        end as position_key
    from resolved
    cross join last_position
    left join anchors
        on resolved.stage_name = anchors.stage_name

),

final as (

    select
        stage_name,
        stage_source,
        forecast_category,
        default_probability,
        -- bigint on every engine (Spark's row_number is an int)
        cast(row_number() over (
            order by position_key, default_probability, stage_name
        ) as bigint) as stage_order,
        stage_rows,
        stage_source != 'fallback' as is_stage_mapped,
        is_closed,
        is_won
    from positioned

)

select * from final
