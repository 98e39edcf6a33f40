-- One row per calendar month from the start of history to the current month: the global month
-- spine that month-grain marts join to so that months without activity still appear.
with

days as (

    {{ dbt.date_spine(
        datepart="month",
        start_date="cast('" ~ var('revops_history_start') ~ "' as date)",
        end_date=dbt.dateadd("month", 1, dbt.date_trunc("month", dbt.current_timestamp())),
    ) }}

),

final as (

    select
        cast(date_month as date) as month_start_date,
        cast({{ dbt.last_day("date_month", "month") }} as date) as month_end_date
    from days

)

select * from final
