-- One row per change in an opportunity's history that moved its close date later than the
-- close date it had before (the previous history row with a close date): a push, also called a
-- slip of the close date. pipeline_health counts them per opportunity.
with

history as (

    select
        opportunity_history_id,
        opportunity_id,
        close_date,
        changed_at
    from {{ ref('int_crm_opportunity_history_unioned') }}
    where close_date is not null

),

ordered as (

    select
        opportunity_history_id,
        opportunity_id,
        close_date,
        changed_at,
        lag(close_date) over (
            partition by opportunity_id
            order by changed_at, opportunity_history_id
        ) as previous_close_date
    from history

),

final as (

    select
        opportunity_history_id,
        opportunity_id,
        cast({{ dbt.datediff("previous_close_date", "close_date", "day") }} as bigint)  -- noqa: LT05
            as pushed_days,
        previous_close_date,
        close_date,
        changed_at
    from ordered
    where close_date > previous_close_date

)

select * from final
