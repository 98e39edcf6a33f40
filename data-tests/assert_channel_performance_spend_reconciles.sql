-- Total spend in channel_performance equals the total spend_reporting of fct_ad_spend_daily:
-- no spend row is lost to a month outside the spine or a null channel, and none is doubled.
with

mart as (

    select sum(spend_reporting) as spend from {{ ref('channel_performance') }}

),

source as (

    select coalesce(sum(spend_reporting), 0) as spend from {{ ref('fct_ad_spend_daily') }}

)

select
    mart.spend as mart_spend,
    source.spend as source_spend
from mart
cross join source
where mart.spend <> source.spend
