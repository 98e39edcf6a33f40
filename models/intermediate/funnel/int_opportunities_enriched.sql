-- One row per opportunity that is not deleted: its account's segment, its type as a code, the
-- amount converted to the reporting currency at the rate of its close date, and cycle length.
-- An empty currency is the org's corporate currency (setting `corporate_currency`); an amount
-- without a usable rate (int_fx_rates_daily) or an empty amount converts to null, never 0. An
-- open opportunity expected to close after the latest published FX rate converts at that
-- latest rate date (its close date has no rate yet).
with

opportunities as (

    select
        opportunity_id,
        account_id,
        owner_id,
        campaign_id,
        opportunity_name,
        opportunity_type,
        stage_name,
        forecast_category,
        lead_source,
        coalesce(currency, '{{ setting("corporate_currency") }}') as currency,
        amount,
        probability,
        is_closed,
        is_won,
        close_date,
        cast(created_at as date) as created_date,
        created_at
    from {{ ref('stg_salesforce__opportunities') }}
    where not is_deleted

),

accounts as (

    select
        account_id,
        number_of_employees
    from {{ ref('stg_salesforce__accounts') }}

),

segment_bands as (

    select
        segment,
        min_employees,
        max_employees
    from {{ ref('segment_bands') }}

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

final as (

    select
        opportunities.opportunity_id,
        opportunities.account_id,
        opportunities.owner_id,
        opportunities.campaign_id,
        opportunities.opportunity_name,
        case opportunities.opportunity_type
            when 'New Business' then 'new_business'
            when 'Expansion' then 'expansion'
            when 'Renewal' then 'renewal'
            else 'other'
        end as opportunity_type,
        opportunities.stage_name,
        opportunities.forecast_category,
        opportunities.lead_source,
        coalesce(segment_bands.segment, 'Unknown') as segment,
        opportunities.currency,
        opportunities.amount,
        -- Each amount is converted at its close date's rate and rounded to the cent.
        cast(round(opportunities.amount * fx.rate_to_reporting, 2) as decimal(18, 2))
            as amount_reporting,
        opportunities.probability,
        opportunities.is_closed,
        opportunities.is_won,
        opportunities.close_date,
        opportunities.created_at,
        case
            when opportunities.is_closed
                then cast({{ dbt.datediff("opportunities.created_date", "opportunities.close_date", "day") }} as bigint)  -- noqa: LT05
        end as sales_cycle_days
    from opportunities
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

)

select * from final
