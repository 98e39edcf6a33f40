-- Total won amount in rep_performance equals the total won amount (reporting currency) of the
-- new-business deals in fct_opportunities within the history window (util_history_window): no won deal is lost to
-- an owner outside the rep list or a month outside the spine, and none is counted twice. Won
-- deals without an amount or a usable FX rate are null on both sides. Compared with
-- `is distinct from`, and a null won amount in the mart (its rows are 0 when nothing was won)
-- fails: an empty or null mart cannot pass.
with

history_window as (

    select
        history_start_date,
        last_month_end_date
    from {{ ref('util_history_window') }}

),

mart as (

    select
        coalesce(sum(won_amount_reporting), 0) as won_amount,
        count(*) - count(won_amount_reporting) as null_rows
    from {{ ref('rep_performance') }}

),

source as (

    select coalesce(sum(opportunities.amount_reporting), 0) as won_amount
    from {{ ref('fct_opportunities') }} as opportunities
    cross join history_window
    where
        opportunities.is_won
        and opportunities.deal_category = 'new_business'
        and not (
            opportunities.close_date < history_window.history_start_date
            or opportunities.close_date > history_window.last_month_end_date
        )

)

select
    mart.won_amount as mart_won_amount,
    source.won_amount as source_won_amount,
    mart.null_rows as mart_null_rows
from mart
cross join source
where
    mart.won_amount is distinct from source.won_amount
    or mart.null_rows > 0
