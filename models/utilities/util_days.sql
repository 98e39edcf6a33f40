-- One row per calendar day from the start of history to today: the date spine for daily
-- reference data (FX rates carried forward over days without a published rate).
with

days as (

    {{ dbt.date_spine(
        datepart="day",
        start_date="cast('" ~ var('revops_history_start') ~ "' as date)",
        end_date=dbt.dateadd("day", 1, "current_date"),
    ) }}

),

final as (

    select cast(date_day as date) as calendar_date
    from days

)

select * from final
