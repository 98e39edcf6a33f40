-- One row per as-of date x period grain x period (current and next, int_forecast_periods) x
-- segment of new-business deals: the run-rate forecast of the bookings still to come in the
-- period. The remaining window is the rest of the period after the as-of date (the whole
-- period for the next one), as an offset in days from the period's start; in each of the
-- forecast_run_rate_periods most recent periods of the same grain that had ended by the
-- as-of date (and start inside the history window), the same window is taken and the
-- new-business deals both created and won in it are summed (reporting currency, fct_opportunities);
-- forecast_remaining is their average over those reference periods (null without any; a won deal
-- without a converted amount is left out and counted in deals_left_out).
{%- set n_periods = numeric_setting('forecast_run_rate_periods', whole=true) | int %}
{%- if n_periods < 1 %}
    {{ exceptions.raise_compiler_error(
        "Setting forecast_run_rate_periods (REVOPS_FORECAST_RUN_RATE_PERIODS) must be at least 1"
    ) }}
{%- endif %}
with

periods as (

    select
        as_of_date,
        period_grain,
        period_start,
        case when period_grain = 'month' then 1 else 3 end as period_months,
        {{ dbt.datediff(
            'period_start',
            'case when as_of_date >= period_start then '
                ~ dbt.dateadd('day', 1, 'as_of_date') ~ ' else period_start end',
            'day'
        ) }} as window_offset_days
    from {{ ref('int_forecast_periods') }}

),

history as (

    select history_start_date
    from {{ ref('util_history_window') }}

),

deals as (

    select
        segment,
        amount_reporting,
        is_won,
        created_date,
        close_date
    from {{ ref('fct_opportunities') }}
    where deal_category = 'new_business'

),

segments as (

    select distinct segment
    from deals

),

won_deals_by_period as (

    -- each won deal under the month and the quarter its close date falls in: a reference
    -- window lies inside its reference period, so a deal closed in it is one of that period's
    -- (an equality join on the period, then the window's bounds, instead of a range join of
    -- every window with every deal)
    {%- for grain in ['month', 'quarter'] %}
    select
        '{{ grain }}' as period_grain,
        cast({{ dbt.date_trunc(grain, 'close_date') }} as date) as close_period_start,
        segment,
        amount_reporting,
        created_date,
        close_date
    from deals
    where is_won
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

candidate_references as (

    {%- for k in range(1, n_periods + 2) %}
    select
        periods.as_of_date,
        periods.period_grain,
        periods.period_start,
        periods.window_offset_days,
        {{ k }} as periods_back,
        {%- set back = '-' ~ k ~ ' * periods.period_months' %}
        cast({{ dbt.dateadd('month', back, 'periods.period_start') }} as date) as reference_start
    from periods
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

bounded_references as (

    select
        candidate_references.as_of_date,
        candidate_references.period_grain,
        candidate_references.period_start,
        candidate_references.periods_back,
        candidate_references.reference_start,
        {%- set offset = 'candidate_references.window_offset_days' %}
        cast({{ dbt.dateadd('day', offset, 'candidate_references.reference_start') }} as date)
            as window_start,
        cast({{ dbt.dateadd(
            'day', -1, dbt.dateadd(
                'month',
                "case when candidate_references.period_grain = 'month' then 1 else 3 end",
                'candidate_references.reference_start'
            )
        ) }} as date) as window_end
    from candidate_references
    cross join history
    where candidate_references.reference_start >= history.history_start_date

),

ranked_references as (

    select
        as_of_date,
        period_grain,
        period_start,
        reference_start,
        window_start,
        window_end,
        row_number() over (
            partition by as_of_date, period_grain, period_start
            order by periods_back
        ) as recency
    from bounded_references
    where window_end <= as_of_date

),

reference_windows as (

    select
        as_of_date,
        period_grain,
        period_start,
        reference_start,
        window_start,
        window_end
    from ranked_references
    where recency <= {{ n_periods }}

),

reference_counts as (

    select
        periods.as_of_date,
        periods.period_grain,
        periods.period_start,
        count(reference_windows.window_start) as reference_periods
    from periods
    left join reference_windows
        on
            periods.as_of_date = reference_windows.as_of_date
            and periods.period_grain = reference_windows.period_grain
            and periods.period_start = reference_windows.period_start
    group by periods.as_of_date, periods.period_grain, periods.period_start

),

window_wins as (

    select
        reference_windows.as_of_date,
        reference_windows.period_grain,
        reference_windows.period_start,
        deals.segment,
        sum(deals.amount_reporting) as won_amount,
        count(*) as won_deals,
        sum(case when deals.amount_reporting is null then 1 else 0 end) as won_unconverted
    from reference_windows
    inner join won_deals_by_period as deals
        on
            reference_windows.period_grain = deals.period_grain
            and reference_windows.reference_start = deals.close_period_start
            and reference_windows.window_start <= deals.created_date
            and reference_windows.window_end >= deals.created_date
            and reference_windows.window_start <= deals.close_date
            and reference_windows.window_end >= deals.close_date
    group by
        reference_windows.as_of_date,
        reference_windows.period_grain,
        reference_windows.period_start,
        deals.segment

),

final as (

    select
        reference_counts.period_grain,
        segments.segment,
        cast(
            case
                when reference_counts.reference_periods > 0
                    then coalesce(window_wins.won_amount, 0) / reference_counts.reference_periods
            end as decimal(18, 2)
        ) as forecast_remaining,
        cast(coalesce(window_wins.won_deals, 0) as bigint) as reference_won_deals,
        cast(coalesce(window_wins.won_unconverted, 0) as bigint) as deals_left_out,
        cast(reference_counts.reference_periods as bigint) as reference_periods,
        reference_counts.as_of_date,
        reference_counts.period_start
    from reference_counts
    cross join segments
    left join window_wins
        on
            reference_counts.as_of_date = window_wins.as_of_date
            and reference_counts.period_grain = window_wins.period_grain
            and reference_counts.period_start = window_wins.period_start
            and segments.segment = window_wins.segment

)

select * from final
