-- One row per opportunity that is not deleted: its account's segment, its type as a deal
-- category (an opportunity without a Type: the setting deal_category_when_type_missing), the
-- amount converted to the reporting currency at the rate of its close date, and cycle length.
-- An empty currency is the org's corporate currency (setting `corporate_currency`); an amount
-- without a usable rate (int_fx_rates_daily) or an empty amount converts to null, never 0. An
-- open opportunity expected to close after the latest published FX rate converts at that
-- latest rate date (its close date has no rate yet).
-- Incremental by opportunity (macros/forecast/opportunity_rows.sql): each row keeps
-- `_inputs_signature`, a signature of its own columns; a run computes every row and writes only
-- those whose signature is not the stored one (a new or edited opportunity, an open one re-rated
-- by the latest FX rate or slipped since the CRM's last delivery, an account crossing a segment
-- band, a stage re-mapped). The pre-hook deletes the opportunities deleted since.
{{ config(**affected_marts_config('opportunity_id', [
    "{{ revops.opportunities_gone_pre_hook(
        'select opportunity_id from ' ~ ref('int_crm_opportunities_unioned') ~ ' where not is_deleted'
    ) }}",
])) }}
with

opportunities as (

    select
        opportunity_id,
        account_id,
        owner_id,
        owner_type,
        campaign_id,
        opportunity_name,
        opportunity_type,
        stage_name,
        forecast_category,
        lead_source,
        coalesce(currency, '{{ setting("corporate_currency") }}') as currency,
        coalesce(trim(opportunity_type), '') = '' as is_type_missing,
        amount,
        probability,
        is_closed,
        is_won,
        close_date,
        cast(created_at as date) as created_date,
        created_at
    from {{ ref('int_crm_opportunities_unioned') }}
    where not is_deleted

),

crm_as_of as (

    -- The day the CRM's opportunities were last exported: "today" for the pipeline.
    select max(_delivery_date) as as_of_date
    from {{ ref('int_crm_opportunities_unioned') }}

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

stages as (

    select
        stage_name,
        forecast_category,
        default_probability,
        stage_order,
        is_stage_mapped
    from {{ ref('int_opportunity_stages_resolved') }}

),

fx as (

    select
        currency,
        calendar_date,
        rate_to_reporting
    from {{ ref('int_fx_rates_daily') }}

),

fx_as_of as (

    -- The day of the latest published rate (the reporting currency's own rows are always 1).
    select max(published_rate_date) as latest_rate_date
    from {{ ref('int_fx_rates_daily') }}
    where currency <> '{{ setting("reporting_currency") }}'

),

conversion_dates as (

    select
        opportunities.opportunity_id,
        case
            when
                not opportunities.is_closed
                and opportunities.close_date > fx_as_of.latest_rate_date
                then fx_as_of.latest_rate_date
            else opportunities.close_date
        end as conversion_date
    from opportunities
    cross join fx_as_of

),

enriched as (

    select
        opportunities.opportunity_id,
        opportunities.account_id,
        opportunities.owner_id,
        opportunities.owner_type,
        opportunities.campaign_id,
        opportunities.opportunity_name,
        -- opportunity_type keeps its published meaning (the category code); the picklist
        -- value as delivered is opportunity_type_label. No Type at all (an org that does not
        -- use the field): the setting deal_category_when_type_missing, so its deals are not
        -- all `other`; a Type the mapping does not know: `other` (both counted by warnings).
        case
            when opportunities.is_type_missing
                then '{{ setting("deal_category_when_type_missing") }}'
            else coalesce(opportunity_types.deal_category, 'other')
        end as opportunity_type,
        case
            when opportunities.is_type_missing
                then '{{ setting("deal_category_when_type_missing") }}'
            else coalesce(opportunity_types.deal_category, 'other')
        end as deal_category,
        opportunities.opportunity_type as opportunity_type_label,
        opportunities.stage_name,
        coalesce(opportunities.forecast_category, stages.forecast_category) as forecast_category,
        opportunities.lead_source,
        coalesce(segment_bands.segment, 'Unknown') as segment,
        opportunities.currency,
        opportunities.amount,
        -- Each amount is converted at its close date's rate and rounded to the cent.
        cast(round(opportunities.amount * fx.rate_to_reporting, 2) as decimal(18, 2))
            as amount_reporting,
        coalesce(opportunities.probability, stages.default_probability) as probability,
        stages.stage_order,
        opportunity_types.opportunity_type is not null as is_type_mapped,
        opportunities.is_type_missing,
        coalesce(stages.is_stage_mapped, false) as is_stage_mapped,
        opportunities.is_closed,
        opportunities.is_won,
        -- slipped: still open although its expected close date has passed
        not opportunities.is_closed and opportunities.close_date < crm_as_of.as_of_date
            as is_slipped,
        opportunities.close_date,
        opportunities.created_at,
        case
            when opportunities.is_closed
                then cast({{ dbt.datediff("opportunities.created_date", "opportunities.close_date", "day") }} as bigint)  -- noqa: LT05
        end as sales_cycle_days
    from opportunities
    cross join crm_as_of
    -- Deal category (seed opportunity_types) and the stage's order and defaults
    -- (int_opportunity_stages_resolved). The row's own IsClosed, IsWon, Probability and
    -- ForecastCategoryName are the truth; the stage's defaults fill only an empty probability
    -- or forecast category.
    left join opportunity_types
        on opportunities.opportunity_type = opportunity_types.opportunity_type
    left join stages
        on opportunities.stage_name = stages.stage_name
    left join accounts
        on opportunities.account_id = accounts.account_id
    left join segment_bands
        on
            accounts.number_of_employees >= segment_bands.min_employees
            and (
                accounts.number_of_employees <= segment_bands.max_employees
                or segment_bands.max_employees is null
            )
    left join conversion_dates
        on opportunities.opportunity_id = conversion_dates.opportunity_id
    left join fx
        on
            opportunities.currency = fx.currency
            and conversion_dates.conversion_date = fx.calendar_date

),

{{ revops.signed_changed_opportunities(
    'enriched', revops.enriched_opportunity_columns(), is_incremental()
) }}

select * from final
