-- One row per calendar day from the start of history to today: the time spine MetricFlow
-- needs for the semantic layer (models/semantic), configured by `time_spine:` in its YAML.
with

days as (

    select calendar_date
    from {{ ref('util_days') }}

),

final as (

    select calendar_date as date_day
    from days

)

select * from final
