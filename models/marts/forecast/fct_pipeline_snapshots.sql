-- One row per opportunity open at the end of an as-of day (util_pipeline_as_of_dates), in
-- the state it was known to be in then: stage, amount, probability and close date from the
-- latest OpportunityHistory row changed on or before that day; currency, owner, account, type
-- and deletion from the latest delivered Opportunity version modified on or before it (the
-- version also gives stage, amount, probability and close date while the opportunity has no
-- history row yet). Open: created on or before the day, not deleted and in a stage that is
-- not closed as of it; a deal re-opened after closing is open again from the re-open.
--
-- Incremental by as-of date: a run adds only the as-of dates not yet in the table, so the
-- pipeline of a past day is never recomputed from later deliveries (`--full-refresh`
-- rebuilds it). An as-of date no longer listed (a Monday older than the last
-- `pipeline_recent_mondays`, the previous latest day) is removed on DuckDB.
-- An incremental run orders the history of only the opportunities that can be open on a new
-- as-of date: it leaves out the settled ones, whose every history row and version is dated on
-- or before the first new as-of date (so their state on every new date is their latest one)
-- and whose latest day leaves them closed or deleted whichever of its rows is picked (every
-- version of that day deleted; or every history row of that day in a closed stage; or, with
-- no history, every version of that day closed). One grouped pass finds them; the windows
-- below, the cost of this model, then run on the others only (none when no date is new).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook="{{ prune_pipeline_as_of_dates() }}",
) }}
{%- set corporate_currency = setting('corporate_currency') %}
with

as_of_dates as (

    select as_of_date
    from {{ ref('util_pipeline_as_of_dates') }}
    {%- if is_incremental() %}
    where as_of_date not in (select existing.as_of_date from {{ this }} as existing)
    {%- endif %}

),

all_history as (

    select
        opportunity_history_id,
        opportunity_id,
        stage_name,
        amount,
        probability,
        close_date,
        changed_at
    from {{ ref('int_crm_opportunity_history_unioned') }}

),

all_versions as (

    select
        opportunity_version_id,
        opportunity_id,
        account_id,
        owner_id,
        opportunity_type,
        stage_name,
        currency,
        amount,
        probability,
        is_closed,
        is_deleted,
        close_date,
        created_at,
        last_modified_at
    from {{ ref('int_crm_opportunity_versions_unioned') }}

),

stages as (

    select
        stage_name,
        stage_order,
        forecast_category,
        default_probability,
        is_closed
    from {{ ref('int_opportunity_stages_resolved') }}

),
{%- if is_incremental() %}

history_last_days as (

    -- per opportunity: its last history day, and the last day with a row not in a closed stage
    select
        all_history.opportunity_id,
        {{ latest_date_of('all_history.changed_at') }} as last_date,
        {{ latest_date_of('all_history.changed_at', 'not coalesce(stages.is_closed, false)') }}
            as last_not_closed_date
    from all_history
    left join stages
        on all_history.stage_name = stages.stage_name
    where all_history.opportunity_id is not null
    group by all_history.opportunity_id

),

version_last_days as (

    -- per opportunity: its last version day, the last day with a version not deleted, and the
    -- last day with a version not closed (stage, else the version's own flag)
    select
        all_versions.opportunity_id,
        {{ latest_date_of('all_versions.last_modified_at') }} as last_date,
        {{ latest_date_of(
            'all_versions.last_modified_at',
            'not coalesce(all_versions.is_deleted, false)'
        ) }} as last_not_deleted_date,
        {{ latest_date_of(
            'all_versions.last_modified_at',
            'not coalesce(stages.is_closed, all_versions.is_closed, false)'
        ) }} as last_not_closed_date
    from all_versions
    left join stages
        on all_versions.stage_name = stages.stage_name
    where all_versions.opportunity_id is not null
    group by all_versions.opportunity_id

),

settled_opportunities as (

    -- open on no new as-of date (see the header); all of them when no date is new
    select version_last_days.opportunity_id
    from version_last_days
    cross join (select min(as_of_date) as first_new_date from as_of_dates) as new_dates
    left join history_last_days
        on version_last_days.opportunity_id = history_last_days.opportunity_id
    where
        new_dates.first_new_date is null
        or (
            version_last_days.last_date <= new_dates.first_new_date
            and (
                history_last_days.last_date is null
                or history_last_days.last_date <= new_dates.first_new_date
            )
            and (
                version_last_days.last_not_deleted_date is null
                or version_last_days.last_not_deleted_date < version_last_days.last_date
                or (
                    history_last_days.last_date is not null
                    and (
                        history_last_days.last_not_closed_date is null
                        or history_last_days.last_not_closed_date < history_last_days.last_date
                    )
                )
                or (
                    history_last_days.last_date is null
                    and (
                        version_last_days.last_not_closed_date is null
                        or version_last_days.last_not_closed_date < version_last_days.last_date
                    )
                )
            )
        )

),
{%- endif %}

history as (

    {{ without_settled_opportunities('all_history') }}

),

versions as (

    {{ without_settled_opportunities('all_versions') }}

),

fx as (

    select
        currency,
        calendar_date,
        rate_to_reporting
    from {{ ref('int_fx_rates_daily') }}

),

accounts as (

    select
        account_id,
        number_of_employees
    from {{ ref('int_crm_accounts_unioned') }}

),

segment_bands as (

    select
        bands.segment,
        bands.min_employees,
        bands.max_employees
    from {{ org_mapping('segment_bands') }} as bands

),

opportunity_types as (

    select
        type_map.opportunity_type,
        type_map.deal_category
    from {{ org_mapping('opportunity_types') }} as type_map

),

history_ordered as (

    select
        history.*,
        cast(history.changed_at as date) as effective_date,
        lag(history.stage_name) over (
            partition by history.opportunity_id
            order by history.changed_at, history.opportunity_history_id
        ) as previous_stage_name,
        lag(history.close_date) over (
            partition by history.opportunity_id
            order by history.changed_at, history.opportunity_history_id
        ) as previous_close_date
    from history

),

history_counted as (

    -- A stay in a stage starts where the stage differs from the previous row's; a close date
    -- pushed is one later than the previous row's.
    select
        history_ordered.*,
        sum(
            case
                when
                    history_ordered.previous_stage_name is null
                    or history_ordered.previous_stage_name <> history_ordered.stage_name
                    then 1
                else 0
            end
        ) over (
            partition by history_ordered.opportunity_id
            order by history_ordered.changed_at, history_ordered.opportunity_history_id
            rows between unbounded preceding and current row
        ) as stay_number,
        sum(
            case
                when history_ordered.close_date > history_ordered.previous_close_date then 1 else 0
            end
        ) over (
            partition by history_ordered.opportunity_id
            order by history_ordered.changed_at, history_ordered.opportunity_history_id
            rows between unbounded preceding and current row
        ) as close_date_push_count
    from history_ordered

),

history_stays as (

    select
        history_counted.*,
        min(history_counted.changed_at)
            over (partition by history_counted.opportunity_id, history_counted.stay_number)
            as stage_entered_at,
        row_number() over (
            partition by history_counted.opportunity_id, history_counted.effective_date
            order by history_counted.changed_at desc, history_counted.opportunity_history_id desc
        ) as row_in_day
    from history_counted

),

history_days as (

    -- The state at the end of each day with a change, valid until the next such day.
    select
        history_stays.*,
        lead(history_stays.effective_date) over (
            partition by history_stays.opportunity_id order by history_stays.effective_date
        ) as next_effective_date
    from history_stays
    where history_stays.row_in_day = 1

),

versions_ranked as (

    select
        versions.*,
        cast(versions.last_modified_at as date) as effective_date,
        row_number() over (
            partition by versions.opportunity_id, cast(versions.last_modified_at as date)
            order by versions.last_modified_at desc, versions.opportunity_version_id desc
        ) as row_in_day
    from versions

),

version_days as (

    select
        versions_ranked.*,
        lead(versions_ranked.effective_date) over (
            partition by versions_ranked.opportunity_id order by versions_ranked.effective_date
        ) as next_effective_date
    from versions_ranked
    where versions_ranked.row_in_day = 1

),

known as (

    -- Each opportunity with a version by the as-of day, as it was known at its end.
    select
        as_of_dates.as_of_date,
        version_days.opportunity_id,
        version_days.account_id,
        version_days.owner_id,
        version_days.opportunity_type,
        version_days.is_deleted,
        version_days.is_closed as version_is_closed,
        coalesce(version_days.currency, '{{ corporate_currency }}') as currency,
        cast(version_days.created_at as date) as created_date,
        history_days.opportunity_id is not null as has_history,
        coalesce(history_days.stage_name, version_days.stage_name) as stage_name,
        case
            when history_days.opportunity_id is not null then history_days.amount
            else version_days.amount
        end as amount,
        coalesce(history_days.probability, version_days.probability) as probability_percent,
        case
            when history_days.opportunity_id is not null then history_days.close_date
            else version_days.close_date
        end as close_date,
        history_days.stage_entered_at,
        history_days.close_date_push_count
    from as_of_dates
    inner join version_days
        on
            as_of_dates.as_of_date >= version_days.effective_date
            and (
                version_days.next_effective_date is null
                or as_of_dates.as_of_date < version_days.next_effective_date
            )
    left join history_days
        on
            version_days.opportunity_id = history_days.opportunity_id
            and as_of_dates.as_of_date >= history_days.effective_date
            and (
                history_days.next_effective_date is null
                or as_of_dates.as_of_date < history_days.next_effective_date
            )

),

open_deals as (

    select
        known.*,
        stages.stage_order,
        stages.forecast_category,
        stages.default_probability
    from known
    left join stages
        on known.stage_name = stages.stage_name
    where
        not coalesce(known.is_deleted, false)
        and known.created_date <= known.as_of_date
        and not coalesce(stages.is_closed, known.version_is_closed, false)

),

final as (

    select
        open_deals.as_of_date,
        open_deals.opportunity_id,
        open_deals.account_id,
        open_deals.owner_id,
        coalesce(segment_bands.segment, 'Unknown') as segment,
        case
            when coalesce(trim(open_deals.opportunity_type), '') = ''
                then '{{ setting("deal_category_when_type_missing") }}'
            else coalesce(opportunity_types.deal_category, 'other')
        end as deal_category,
        open_deals.stage_name,
        cast(open_deals.stage_order as bigint) as stage_order,
        open_deals.forecast_category,
        cast(
            coalesce(open_deals.probability_percent, open_deals.default_probability) / 100.0
            as decimal(5, 4)
        ) as probability,
        open_deals.currency,
        open_deals.amount,
        -- at the as-of day's rate, rounded to the cent; no usable rate: null (counted in
        -- pipeline_by_day.amount_unconverted_count)
        cast(round(open_deals.amount * fx.rate_to_reporting, 2) as decimal(18, 2))
            as amount_reporting,
        open_deals.created_date,
        open_deals.close_date,
        cast({{ dbt.datediff('open_deals.created_date', 'open_deals.as_of_date', 'day') }} as bigint)  -- noqa: LT05
            as age_days,
        cast(
            {{ dbt.datediff(
                'coalesce(cast(open_deals.stage_entered_at as date), open_deals.created_date)',
                'open_deals.as_of_date',
                'day'
            ) }} as bigint
        ) as days_in_stage,
        cast(open_deals.close_date_push_count as bigint) as close_date_push_count,
        open_deals.close_date < open_deals.as_of_date as is_past_close_date
    from open_deals
    left join fx
        on
            open_deals.currency = fx.currency
            and open_deals.as_of_date = fx.calendar_date
    left join opportunity_types
        on open_deals.opportunity_type = opportunity_types.opportunity_type
    left join accounts
        on open_deals.account_id = accounts.account_id
    left join segment_bands
        on
            accounts.number_of_employees >= segment_bands.min_employees
            and (
                accounts.number_of_employees <= segment_bands.max_employees
                or segment_bands.max_employees is null
            )

)

select * from final
