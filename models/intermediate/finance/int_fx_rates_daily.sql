-- One row per currency per calendar day of history that has a usable rate to the reporting
-- currency: the latest rate published on or before that day, if it was published at most
-- `fx_max_staleness_days` days before it (the reporting currency itself is 1). A day without a
-- usable rate has no row, so an amount dated that day converts to null, never to 0; a currency
-- without any published rate has no rows at all.
{%- set reporting_currency = setting('reporting_currency') %}
{%- set max_staleness_days = numeric_setting('fx_max_staleness_days', whole=true) %}
with

rates as (

    select
        base_currency as currency,
        rate_date,
        rate
    from {{ ref('stg_reference__fx_rates') }}
    -- A delivered rate of the reporting currency to itself is left out: it is 1 every day
    -- below, and a second row per day would double every amount converted in it.
    where
        quote_currency = '{{ reporting_currency }}'
        and base_currency != '{{ reporting_currency }}'

),

days as (

    select calendar_date from {{ ref('util_days') }}

),

first_day as (

    select min(calendar_date) as first_calendar_date from days

),

currencies as (

    select distinct currency from rates

),

currency_days as (

    select
        currencies.currency,
        days.calendar_date,
        true as is_history_day
    from currencies
    cross join days

),

earlier_rates as (

    -- Rates published before the first day of history still carry into its first days.
    select
        rates.currency,
        rates.rate_date as calendar_date,
        false as is_history_day
    from rates
    cross join first_day
    where rates.rate_date < first_day.first_calendar_date

),

timeline as (

    select * from currency_days
    union all
    select * from earlier_rates

),

published as (

    select
        timeline.currency,
        timeline.calendar_date,
        timeline.is_history_day,
        rates.rate,
        rates.rate_date
    from timeline
    left join rates
        on
            timeline.currency = rates.currency
            and timeline.calendar_date = rates.rate_date

),

carried_forward as (

    -- The last rate published on or before each day; null before the first one.
    select
        currency,
        calendar_date,
        is_history_day,
        {{ last_value_ignore_nulls("rate") }} over (
            partition by currency
            order by calendar_date
            rows between unbounded preceding and current row
        ) as rate,
        {{ last_value_ignore_nulls("rate_date") }} over (
            partition by currency
            order by calendar_date
            rows between unbounded preceding and current row
        ) as published_rate_date
    from published

),

usable as (

    select
        currency,
        calendar_date,
        rate,
        published_rate_date
    from carried_forward
    where
        is_history_day
        and rate is not null
        and {{ dbt.datediff('published_rate_date', 'calendar_date', 'day') }}
        <= {{ max_staleness_days }}

),

reporting_currency as (

    select
        '{{ reporting_currency }}' as currency,
        calendar_date,
        cast(1 as decimal(18, 6)) as rate,
        calendar_date as published_rate_date
    from days

),

final as (

    select
        currency,
        calendar_date,
        cast(rate as decimal(18, 6)) as rate_to_reporting,
        published_rate_date
    from usable
    union all
    select
        currency,
        calendar_date,
        rate,
        published_rate_date
    from reporting_currency

)

select * from final
