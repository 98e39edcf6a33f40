-- One row: the window of history the marts cover. It starts on the first day of the earliest
-- month with any lead, opportunity, subscription, invoice or ad spend row, or of the month of
-- the `history_start` setting when that is later (the setting may only narrow the window), and
-- ends today. Without any such row and without the setting it is the current month.
with

lead_dates as (

    select min(created_at) as first_at
    from {{ ref('int_crm_leads_unioned') }}

),

opportunity_dates as (

    select
        min(created_at) as first_at,
        min(close_date) as first_close_date
    from {{ ref('int_crm_opportunities_unioned') }}

),

subscription_dates as (

    select
        min(created_at) as first_at,
        min(started_at) as first_started_at
    from {{ ref('stg_stripe__subscriptions') }}

),

invoice_dates as (

    select min(created_at) as first_at
    from {{ ref('stg_stripe__invoices') }}

),

spend_dates as (

    select min(report_date) as first_date from {{ ref('stg_google_ads__campaign_stats') }}
    union all
    select min(report_date) as first_date from {{ ref('stg_linkedin_ads__campaign_stats') }}
    union all
    select min(report_date) as first_date from {{ ref('stg_meta_ads__campaign_stats') }}

),

first_dates as (

    select cast(first_at as date) as first_date from lead_dates
    union all
    select cast(first_at as date) as first_date from opportunity_dates
    union all
    select first_close_date as first_date from opportunity_dates
    union all
    select cast(first_at as date) as first_date from subscription_dates
    union all
    select cast(first_started_at as date) as first_date from subscription_dates
    union all
    select cast(first_at as date) as first_date from invoice_dates
    union all
    select first_date from spend_dates

),

data_start as (

    -- min() skips nulls: an object without rows does not move the start.
    select min(first_date) as data_start_date
    from first_dates

),

bounded as (

    select
        data_start.data_start_date,
        {{ history_start_setting() }} as setting_start_date,
        {{ run_date() }} as history_end_date
    from data_start

),

chosen as (

    select
        data_start_date,
        setting_start_date,
        history_end_date,
        case
            when setting_start_date is null then coalesce(data_start_date, history_end_date)
            when data_start_date is null then setting_start_date
            when setting_start_date > data_start_date then setting_start_date
            else data_start_date
        end as window_start_date
    from bounded

),

final as (

    select
        data_start_date,
        setting_start_date,
        cast({{ dbt.date_trunc('month', 'window_start_date') }} as date) as history_start_date,
        history_end_date,
        -- The month spines (util_months) cover the whole last month.
        cast({{ dbt.last_day('history_end_date', 'month') }} as date) as last_month_end_date
    from chosen

)

select * from final
