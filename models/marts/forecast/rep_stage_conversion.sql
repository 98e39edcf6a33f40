-- One row per rep (dim_reps.is_rep) x open stage their closed deals went through: of the rep's
-- new-business deals closed in the four calendar quarters before the current one (the quarter of
-- the CRM's latest opportunity export day) that entered the stage, how many were won: the
-- stage's win rate for the rep against the rep's team (dim_reps.team, its reps' deals pooled).
with

reps as (

    select
        rep_id,
        team
    from {{ ref('dim_reps') }}
    where is_rep

),

opportunities as (

    select
        opportunity_id,
        owner_id,
        is_won,
        close_date
    from {{ ref('fct_opportunities') }}
    where deal_category = 'new_business' and is_closed

),

stage_history as (

    select
        opportunity_id,
        stage_name,
        stage_order,
        is_closed_stage
    from {{ ref('fct_opportunity_stage_history') }}

),

crm_as_of as (

    select max(_delivery_date) as as_of_date
    from {{ ref('int_crm_opportunities_unioned') }}

),

window_bounds as (

    select
        cast({{ dbt.date_trunc("quarter", "as_of_date") }} as date) as window_end_date,
        cast(
            {{ dbt.dateadd("month", -12, dbt.date_trunc("quarter", "as_of_date")) }} as date
        ) as window_start_date
    from crm_as_of

),

closed_in_window as (

    select
        opportunities.opportunity_id,
        opportunities.owner_id,
        opportunities.is_won,
        reps.team
    from opportunities
    cross join window_bounds
    inner join reps
        on opportunities.owner_id = reps.rep_id
    where
        opportunities.close_date >= window_bounds.window_start_date
        and opportunities.close_date < window_bounds.window_end_date

),

-- each open stage a deal entered, once however often it entered it
stages_reached as (

    select distinct
        closed_in_window.opportunity_id,
        closed_in_window.owner_id,
        closed_in_window.team,
        closed_in_window.is_won,
        stage_history.stage_name,
        stage_history.stage_order
    from closed_in_window
    inner join stage_history
        on closed_in_window.opportunity_id = stage_history.opportunity_id
    where not stage_history.is_closed_stage

),

rep_stages as (

    select
        owner_id,
        team,
        stage_name,
        max(stage_order) as stage_order,
        count(*) as reached,
        sum(case when is_won then 1 else 0 end) as won
    from stages_reached
    group by
        owner_id,
        team,
        stage_name

),

team_stages as (

    select
        team,
        stage_name,
        count(*) as reached,
        sum(case when is_won then 1 else 0 end) as won
    from stages_reached
    where team is not null
    group by
        team,
        stage_name

),

final as (

    select
        rep_stages.owner_id as rep_id,
        rep_stages.team,
        rep_stages.stage_name,
        cast(rep_stages.stage_order as bigint) as stage_order,
        cast(rep_stages.reached as bigint) as reached,
        cast(rep_stages.won as bigint) as won,
        cast(rep_stages.won as double) / rep_stages.reached as stage_win_rate,
        cast(team_stages.reached as bigint) as team_reached,
        cast(team_stages.won as bigint) as team_won,
        cast(team_stages.won as double) / team_stages.reached as team_stage_win_rate,
        cast(rep_stages.won as double) / rep_stages.reached
        - cast(team_stages.won as double) / team_stages.reached as stage_win_rate_vs_team,
        window_bounds.window_start_date,
        window_bounds.window_end_date
    from rep_stages
    cross join window_bounds
    left join team_stages
        on
            rep_stages.team = team_stages.team
            and rep_stages.stage_name = team_stages.stage_name

)

select * from final
