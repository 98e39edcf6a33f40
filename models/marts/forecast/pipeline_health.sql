-- One row per opportunity open today (the CRM's latest opportunity export day): its age, days
-- in its current stage and whether that is stale (the stale_deal_days mapping, else the
-- setting stale_deal_days), how many times its close date was pushed later
-- (int_opportunity_close_date_pushes) and whether its close date has passed.
with

opportunities as (

    select
        opportunity_id,
        account_id,
        owner_id,
        segment,
        deal_category,
        stage_name,
        forecast_category,
        currency,
        amount,
        amount_reporting,
        probability,
        stage_order,
        is_slipped,
        created_date,
        close_date
    from {{ ref('fct_opportunities') }}
    where not is_closed

),

crm_as_of as (

    -- The day the CRM's opportunities were last exported: "today" (as is_slipped).
    select max(_delivery_date) as as_of_date
    from {{ ref('int_crm_opportunities_unioned') }}

),

stage_stays as (

    select
        opportunity_id,
        stage_name,
        entered_at,
        row_number() over (
            partition by opportunity_id, stage_name
            order by stage_sequence desc
        ) as stay_rank
    from {{ ref('fct_opportunity_stage_history') }}

),

pushes as (

    select
        opportunity_id,
        count(*) as close_date_push_count,
        sum(pushed_days) as close_date_pushed_days
    from {{ ref('int_opportunity_close_date_pushes') }}
    group by opportunity_id

),

stale_days as (

    select
        stage_name,
        stale_after_days
    from {{ org_mapping('stale_deal_days') }}

),

-- the latest stay in the stage the deal is in now: its entry is when the stage last changed
current_stays as (

    select
        opportunities.opportunity_id,
        cast(stage_stays.entered_at as date) as stage_entered_date
    from opportunities
    inner join stage_stays
        on
            opportunities.opportunity_id = stage_stays.opportunity_id
            and opportunities.stage_name = stage_stays.stage_name
            and stage_stays.stay_rank = 1

),

measured as (

    select
        opportunities.*,
        crm_as_of.as_of_date,
        current_stays.stage_entered_date,
        cast(
            coalesce(
                stale_days.stale_after_days, {{ numeric_setting('stale_deal_days', whole=true) }}
            ) as bigint
        ) as stale_after_days,
        stale_days.stage_name is null as is_stale_threshold_default,
        cast({{ dbt.datediff("current_stays.stage_entered_date", "crm_as_of.as_of_date", "day") }} as bigint)  -- noqa: LT05
            as days_in_stage,
        cast({{ dbt.datediff("opportunities.created_date", "crm_as_of.as_of_date", "day") }} as bigint)  -- noqa: LT05
            as age_days,
        cast(coalesce(pushes.close_date_push_count, 0) as bigint) as close_date_push_count,
        cast(coalesce(pushes.close_date_pushed_days, 0) as bigint) as close_date_pushed_days
    from opportunities
    cross join crm_as_of
    left join current_stays
        on opportunities.opportunity_id = current_stays.opportunity_id
    left join pushes
        on opportunities.opportunity_id = pushes.opportunity_id
    left join stale_days
        on opportunities.stage_name = stale_days.stage_name

),

final as (

    select
        opportunity_id,
        account_id,
        owner_id,
        segment,
        deal_category,
        stage_name,
        forecast_category,
        currency,
        '{{ setting("reporting_currency") }}' as reporting_currency,
        amount,
        amount_reporting,
        probability,
        stage_order,
        age_days,
        days_in_stage,
        stale_after_days,
        close_date_push_count,
        close_date_pushed_days,
        case
            when is_slipped
                then cast({{ dbt.datediff("close_date", "as_of_date", "day") }} as bigint)  -- noqa: LT05
        end as days_past_close_date,
        -- null when the stage's entry is unknown (no history row in the current stage)
        days_in_stage > stale_after_days as is_stale,
        stage_entered_date is not null as has_stage_entry,
        is_stale_threshold_default,
        close_date_push_count > 0 as is_close_date_pushed,
        -- one definition: fct_opportunities.is_slipped (open, close date before today)
        is_slipped as is_past_close_date,
        as_of_date,
        created_date,
        stage_entered_date,
        close_date
    from measured

)

select * from final
