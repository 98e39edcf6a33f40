-- One row per day the point-in-time pipeline (fct_pipeline_snapshots) is taken, inside the
-- history window and up to the data's last complete day (the latest delivery of the CRM's
-- opportunities: a delivery holds every change of its day): every month end; every quarter
-- end minus each horizon of the setting `forecast_horizon_days` (a month's own 30-day horizon
-- is the previous month end, so month ends minus 30 days are not added); the last
-- `pipeline_recent_mondays` Mondays; and the last complete day itself (today's pipeline).
{%- set horizons = list_setting('forecast_horizon_days') %}
{%- for horizon in horizons %}
{%- if not modules.re.match('^[0-9]+$', horizon) %}
        {{ exceptions.raise_compiler_error(
            "Setting forecast_horizon_days (REVOPS_FORECAST_HORIZON_DAYS) must list whole numbers of days, got '" ~ horizon ~ "'"
        ) }}
    {%- endif %}
{%- endfor %}
{%- set recent_mondays = numeric_setting('pipeline_recent_mondays', whole=true) %}
with

days as (

    select calendar_date from {{ ref('util_days') }}

),

window_bounds as (

    select history_start_date from {{ ref('util_history_window') }}

),

last_complete as (

    select max(_delivery_date) as last_complete_date
    from {{ ref('int_crm_opportunities_unioned') }}

),

calendar as (

    select
        days.calendar_date,
        cast({{ dbt.last_day('days.calendar_date', 'month') }} as date) as month_end_date,
        -- the quarter's last day: three months after its first, less a day
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 3, dbt.date_trunc('quarter', 'days.calendar_date'))) }} as date)  -- noqa: LT05
            as quarter_end_date,
        {{ iso_day_of_week('days.calendar_date') }} as iso_day_of_week
    from days

),

quarter_ends as (

    select distinct quarter_end_date from calendar

),

horizon_dates as (

    {%- for horizon in horizons %}
    select cast({{ dbt.dateadd('day', -1 * (horizon | int), 'quarter_end_date') }} as date) as calendar_date  -- noqa: LT05
    from quarter_ends
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

mondays as (

    select
        calendar.calendar_date,
        row_number() over (order by calendar.calendar_date desc) as monday_rank
    from calendar
    cross join last_complete
    where
        calendar.iso_day_of_week = 1
        and calendar.calendar_date <= last_complete.last_complete_date

),

flagged as (

    select
        calendar.calendar_date as as_of_date,
        calendar.calendar_date = calendar.month_end_date as is_month_end,
        calendar.calendar_date = calendar.quarter_end_date as is_quarter_end,
        calendar.calendar_date in (select horizon_dates.calendar_date from horizon_dates)
            as is_horizon_date,
        coalesce(mondays.monday_rank <= {{ recent_mondays }}, false) as is_recent_monday,
        calendar.calendar_date = last_complete.last_complete_date as is_latest_day
    from calendar
    cross join last_complete
    left join mondays
        on calendar.calendar_date = mondays.calendar_date

),

final as (

    select
        flagged.as_of_date,
        flagged.is_month_end,
        flagged.is_quarter_end,
        flagged.is_horizon_date,
        flagged.is_recent_monday,
        flagged.is_latest_day
    from flagged
    cross join window_bounds
    cross join last_complete
    where
        (
            flagged.is_month_end
            or flagged.is_quarter_end
            or flagged.is_horizon_date
            or flagged.is_recent_monday
            or flagged.is_latest_day
        )
        and flagged.as_of_date >= window_bounds.history_start_date
        and flagged.as_of_date <= last_complete.last_complete_date

)

select * from final
