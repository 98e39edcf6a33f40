-- Total spend in channel_performance equals the total spend_reporting of fct_ad_spend_daily:
-- no spend row of the history window (util_history_window) is lost to a month outside the spine
-- or a null channel, and none is doubled.
-- Spend without a usable FX rate is null on both sides (counted in sales_ops_metrics); the sums
-- are compared with `is distinct from`, so an empty or null mart total cannot pass.
with

history_window as (

    select
        history_start_date,
        last_month_end_date
    from {{ ref('util_history_window') }}

),

mart as (

    select coalesce(sum(spend_reporting), 0) as spend
    from {{ ref('channel_performance') }}

),

source as (

    select coalesce(sum(spend.spend_reporting), 0) as spend
    from {{ ref('fct_ad_spend_daily') }} as spend
    inner join history_window
        on
            spend.report_date >= history_window.history_start_date
            and spend.report_date <= history_window.last_month_end_date

)

select
    mart.spend as mart_spend,
    source.spend as source_spend
from mart
cross join source
where mart.spend is distinct from source.spend
