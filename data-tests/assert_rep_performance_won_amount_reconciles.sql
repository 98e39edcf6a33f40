-- Total won amount in rep_performance equals the total won amount (reporting currency) of
-- fct_opportunities: no won deal is lost to an owner outside the rep list or a month outside
-- the spine, and none is counted twice.
with

mart as (

    select sum(won_amount_reporting) as won_amount from {{ ref('rep_performance') }}

),

source as (

    select coalesce(sum(amount_reporting), 0) as won_amount
    from {{ ref('fct_opportunities') }}
    where is_won

)

select
    mart.won_amount as mart_won_amount,
    source.won_amount as source_won_amount
from mart
cross join source
where mart.won_amount <> source.won_amount
