-- One row per currency per calendar day: the rate to the reporting currency in force that day
-- (the latest published rate on or before it; the reporting currency itself is 1).
with

rates as (

    select
        base_currency as currency,
        rate_date,
        rate
    from {{ ref('stg_reference__fx_rates') }}
    where quote_currency = '{{ var("reporting_currency") }}'

),

days as (

    select calendar_date from {{ ref('util_days') }}

),

currencies as (

    select distinct currency from rates

),

currency_days as (

    select
        currencies.currency,
        days.calendar_date
    from currencies
    cross join days

),

published as (

    select
        currency_days.currency,
        currency_days.calendar_date,
        rates.rate,
        rates.rate_date
    from currency_days
    left join rates
        on
            currency_days.currency = rates.currency
            and currency_days.calendar_date = rates.rate_date

),

carried_forward as (

    -- The last rate published on or before each day; null before the first one.
    select
        currency,
        calendar_date,
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

reporting_currency as (

    select
        '{{ var("reporting_currency") }}' as currency,
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
    from carried_forward
    where rate is not null
    union all
    select
        currency,
        calendar_date,
        rate,
        published_rate_date
    from reporting_currency

)

select * from final
