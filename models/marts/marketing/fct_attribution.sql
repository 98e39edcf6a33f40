-- One row per opportunity x attribution model x credited touch: the share of the opportunity's
-- pipeline (and won) amount each touch earns under first-touch, last-touch, linear and
-- W-shaped attribution. Touches count when they fall in the lookback window before the
-- opportunity was created (var attribution_lookback_days). An opportunity with no such touch
-- gets one `unattributed` row per model, so credited amounts always add up to the pipeline.
--
-- Incremental (macros/identity/incremental_identity.sql): a run recomputes only the affected
-- opportunities and replaces their rows (delete+insert by opportunity). An opportunity's rows
-- depend on its funnel row, its amount, and its lead's touches, which are the touches of the
-- lead's email when the lead is reportable (int_touches_resolved; touches never change). So
-- an opportunity is affected when
--   * `_inputs_signature` (of its funnel row, amount, and its lead's email and reportability)
--     differs from the one now: a new opportunity, a changed amount, stage or date, a lead
--     whose email changed or that was excluded; or
--   * its lead has a touch loaded after `_loaded_at` (the newest touch load int_touches_resolved
--     held when the rows were built; the newest stored is the watermark).
-- The first pre-hook finds these, and the opportunities no longer credited, in one pass and
-- keeps them with their signatures for this SQL; the second deletes the rows of those no
-- longer credited. Nothing depends on the day.
{{ config(**attribution_config()) }}

with

opportunity_inputs as (

    {{ attribution_opportunities() }}

),
{%- if is_incremental() %}

affected_opportunities as (

    -- found by the pre-hook with their signatures now (null: no longer credited), before it
    -- deleted their rows
    select
        affected.opportunity_id,
        affected.inputs_signature
    from {{ kept_affected_keys_relation('opportunities', attribution_affected_opportunities()) }}
        as affected

),

signatures as (

    select
        opportunity_id,
        inputs_signature
    from affected_opportunities
    where inputs_signature is not null

),

watermark as (

    -- the newest touch load: the newest stored, or a newer touch's (a read of the touches
    -- loaded after the stored one only, never of every touch)
    select max(loaded_at) as loaded_at
    from (
        select max(stored._loaded_at) as loaded_at from {{ this }} as stored
        union all
        select max(new_touches._loaded_at) as loaded_at
        from {{ ref('int_touches_resolved') }} as new_touches
        where new_touches._loaded_at > (
            select coalesce(max(stored._loaded_at), cast('1900-01-01' as timestamp)) as loaded_at
            from {{ this }} as stored
        )
    ) as loads

),
{%- else %}

signatures as (

    {{ attribution_signatures('opportunity_inputs') }}

),

watermark as (

    select max(_loaded_at) as loaded_at from {{ ref('int_touches_resolved') }}

),
{%- endif %}

opportunities as (

    select
        opportunity_id,
        lead_id,
        lead_created_at,
        opportunity_created_at,
        is_won,
        amount_reporting
    from opportunity_inputs
    {%- if is_incremental() %}
    where opportunity_id in (select signatures.opportunity_id from signatures)
    {%- endif %}

),

touches as (

    select
        touch_id,
        lead_id,
        campaign_id,
        channel,
        touched_at
    from {{ ref('int_touches_resolved') }}
    {%- if is_incremental() %}
    where lead_id in (select lead_id from opportunities)
    {%- endif %}

),

eligible as (

    select
        opportunities.opportunity_id,
        touches.touch_id,
        touches.campaign_id,
        touches.channel,
        touches.touched_at,
        row_number() over (
            partition by opportunities.opportunity_id
            order by touches.touched_at asc, touches.touch_id asc
        ) as touch_number,
        count(*) over (partition by opportunities.opportunity_id) as touch_count,
        -- the touch that created the lead: the last one at or before the lead's creation
        max(
            case
                when touches.touched_at <= opportunities.lead_created_at then touches.touched_at
            end
        )
            over (partition by opportunities.opportunity_id) as lead_touch_at
    from opportunities
    inner join touches
        on
            opportunities.lead_id = touches.lead_id
            and opportunities.opportunity_created_at >= touches.touched_at
            and touches.touched_at >= {{ dbt.dateadd(
                "day", "-" ~ setting("attribution_lookback_days"), "opportunities.opportunity_created_at"
            ) }}

),

roles as (

    select
        *,
        touch_number = 1 as is_first_touch,
        touch_number = touch_count as is_last_touch,
        -- the lead-creation touch is the latest touch at or before the lead was created (the
        -- first touch when all of them came later)
        touch_number = min(case when touched_at = lead_touch_at then touch_number end)
            over (partition by opportunity_id)
        or (lead_touch_at is null and touch_number = 1) as is_lead_touch
    from eligible

),

w_shaped as (

    select
        *,
        (case when is_first_touch then 1 else 0 end)
        + (case when is_lead_touch then 1 else 0 end)
        + (case when is_last_touch then 1 else 0 end) as key_roles,
        sum(case when is_first_touch or is_lead_touch or is_last_touch then 0 else 1 end)
            over (partition by opportunity_id) as middle_touches
    from roles

),

credits as (

    select
        opportunity_id,
        touch_id,
        campaign_id,
        channel,
        touched_at,
        'first_touch' as attribution_model,
        cast(case when is_first_touch then 1 else 0 end as double) as credit
    from w_shaped
    union all
    select
        opportunity_id,
        touch_id,
        campaign_id,
        channel,
        touched_at,
        'last_touch' as attribution_model,
        cast(case when is_last_touch then 1 else 0 end as double) as credit
    from w_shaped
    union all
    select
        opportunity_id,
        touch_id,
        campaign_id,
        channel,
        touched_at,
        'linear' as attribution_model,
        cast(1 as double) / touch_count as credit
    from w_shaped
    union all
    -- W-shaped: 30% each to the first, lead-creation and opportunity-creation (last) touches,
    -- 10% shared by the touches in between; with none in between, the three key touches share
    -- that 10% too (a touch holding several roles earns each role's share).
    select
        opportunity_id,
        touch_id,
        campaign_id,
        channel,
        touched_at,
        'w_shaped' as attribution_model,
        case
            -- double on every engine (Spark would keep decimal arithmetic and round it)
            when middle_touches = 0 then cast(key_roles as double) / 3
            when key_roles > 0 then cast(key_roles * 0.3 as double)
            else cast(0.1 as double) / middle_touches
        end as credit
    from w_shaped

),

models as (

    select 'first_touch' as attribution_model
    union all
    select 'last_touch' as attribution_model
    union all
    select 'linear' as attribution_model
    union all
    select 'w_shaped' as attribution_model

),

attributed as (

    select distinct opportunity_id from eligible

),

unattributed as (

    select
        opportunities.opportunity_id,
        cast(null as {{ dbt.type_string() }}) as touch_id,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        'unattributed' as channel,
        cast(null as timestamp) as touched_at,
        models.attribution_model,
        cast(1 as double) as credit
    from opportunities
    cross join models
    left join attributed
        on opportunities.opportunity_id = attributed.opportunity_id
    where attributed.opportunity_id is null

),

all_credits as (

    select * from credits
    where credit > 0
    union all
    select * from unattributed

),

final as (

    select
        {{ surrogate_key([
            "all_credits.opportunity_id", "all_credits.attribution_model", "all_credits.touch_id",
        ]) }}
            as attribution_id,
        all_credits.opportunity_id,
        all_credits.touch_id,
        all_credits.campaign_id,
        all_credits.attribution_model,
        all_credits.channel,
        cast(all_credits.credit as double) as credit,
        cast(opportunities.amount_reporting * all_credits.credit as decimal(18, 6))
            as pipeline_amount_credited,
        cast(
            case
                when opportunities.is_won then opportunities.amount_reporting * all_credits.credit
            end
            as decimal(18, 6)
        ) as won_amount_credited,
        opportunities.is_won,
        all_credits.touched_at,
        opportunities.opportunity_created_at,
        -- what the rows were built from (see the header)
        signatures.inputs_signature as _inputs_signature,
        cast(watermark.loaded_at as timestamp) as _loaded_at
    from all_credits
    inner join opportunities
        on all_credits.opportunity_id = opportunities.opportunity_id
    inner join signatures
        on all_credits.opportunity_id = signatures.opportunity_id
    cross join watermark

)

select * from final
