-- One row per calendar day from the start of history to today, with the calendar attributes
-- BI tools group by.
with

days as (

    select calendar_date from {{ ref('util_days') }}

),

final as (

    select
        calendar_date,
        cast({{ dbt.date_trunc("week", "calendar_date") }} as date) as week_start_date,
        cast({{ dbt.date_trunc("month", "calendar_date") }} as date) as month_start_date,
        cast({{ dbt.date_trunc("quarter", "calendar_date") }} as date) as quarter_start_date,
        cast({{ dbt.date_trunc("year", "calendar_date") }} as date) as year_start_date,
        cast(extract(year from calendar_date) as integer) as calendar_year,
        cast(extract(quarter from calendar_date) as integer) as calendar_quarter,
        cast(extract(month from calendar_date) as integer) as calendar_month,
        cast(extract(day from calendar_date) as integer) as day_of_month,
        -- ISO day of week: 1 = Monday ... 7 = Sunday
        {{ iso_day_of_week("calendar_date") }} as iso_day_of_week,
        {{ iso_day_of_week("calendar_date") }} in (6, 7) as is_weekend
    from days

)

select * from final
