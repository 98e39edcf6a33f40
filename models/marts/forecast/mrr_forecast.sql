-- One row per forecast made x forecast month: as of the end of each complete month of billing
-- history with a pipeline snapshot (util_pipeline_as_of_dates month ends), the company's MRR
-- for each of the next mrr_forecast_months months (default 12) from what was known then: the
-- month's MRR, less known scheduled cancellations (Stripe subscriptions set to cancel at period
-- end, as delivered by then), plus expected new-business MRR (the weighted open new-business
-- pipeline of that day by expected close month, its annual contract value / 12, for the first
-- mrr_forecast_pipeline_months months; the trailing-12-month average new MRR after), plus
-- reactivation at its trailing average, with churn, contraction and expansion at their
-- trailing-12-month rates (mrr_by_month, All). The latest such month's rows are the current
-- forecast (is_latest_as_of). docs/METRICS.md, "MRR forecast".
{%- set horizon = numeric_setting('mrr_forecast_months', whole=true) | int %}
{%- set pipeline_months = numeric_setting('mrr_forecast_pipeline_months', whole=true) %}
with

billing_months as (

    select
        month_start_date,
        reference_date
    from {{ ref('int_billing_months') }}

),

mrr_months as (

    select
        month,
        mrr,
        starting_mrr,
        new_mrr,
        reactivation_mrr,
        expansion_mrr,
        contraction_mrr,
        churn_mrr
    from {{ ref('mrr_by_month') }}
    where segment = 'All'

),

pipeline_dates as (

    select as_of_date
    from {{ ref('util_pipeline_as_of_dates') }}
    where is_month_end

),

snapshots as (

    select
        as_of_date,
        deal_category,
        probability,
        amount_reporting,
        close_date
    from {{ ref('fct_pipeline_snapshots') }}
    where deal_category = 'new_business'

),

subscription_versions as (

    -- only versions that schedule a cancellation at period end can matter
    select
        subscription_id,
        current_period_end_at,
        ended_at,
        valid_from_date,
        valid_to_date
    from {{ ref('stg_stripe__subscription_versions') }}
    where is_canceling_at_period_end and not is_deleted

),

subscription_months as (

    select
        customer_id,
        subscription_id,
        currency,
        monthly_value_x1200,
        month_start_date
    from {{ ref('int_subscription_item_months') }}

),

customer_months as (

    -- the customers in MRR (test, internal and deleted customers are not)
    select
        customer_id,
        month
    from {{ ref('fct_mrr') }}
    where is_active

),

fx as (

    select
        currency,
        calendar_date,
        rate_to_reporting
    from {{ ref('int_fx_rates_daily') }}

),

horizons as (

    {%- for h in range(1, horizon + 1) %}
    select {{ h }} as horizon_months{{ ' union all' if not loop.last }}
    {%- endfor %}

),

-- forecasts are made at the end of a complete month whose pipeline as of that day is known
origins as (

    select
        billing_months.month_start_date as as_of_month,
        billing_months.reference_date as as_of_date,
        mrr_months.mrr as current_mrr,
        cast({{ dbt.dateadd("month", -11, "billing_months.month_start_date") }} as date)
            as window_start_month
    from billing_months
    inner join pipeline_dates
        on billing_months.reference_date = pipeline_dates.as_of_date
    inner join mrr_months
        on billing_months.month_start_date = mrr_months.month
    where
        billing_months.reference_date
        = cast({{ dbt.last_day("billing_months.month_start_date", "month") }} as date)

),

-- rates over the 12 months up to the as-of month, each movement over the starting MRR
trailing_sums as (

    select
        origins.as_of_month,
        count(*) as trailing_months,
        sum(mrr_months.starting_mrr) as starting_mrr,
        sum(mrr_months.churn_mrr) as churn_mrr,
        sum(mrr_months.contraction_mrr) as contraction_mrr,
        sum(mrr_months.expansion_mrr) as expansion_mrr,
        sum(mrr_months.new_mrr) as new_mrr,
        sum(mrr_months.reactivation_mrr) as reactivation_mrr
    from origins
    inner join mrr_months
        on
            origins.as_of_month >= mrr_months.month
            and origins.window_start_month <= mrr_months.month
    group by origins.as_of_month

),

rates as (

    select
        as_of_month,
        trailing_months,
        cast(churn_mrr as double) / nullif(starting_mrr, 0) as churn_rate,
        cast(contraction_mrr as double) / nullif(starting_mrr, 0) as contraction_rate,
        cast(expansion_mrr as double) / nullif(starting_mrr, 0) as expansion_rate,
        cast(new_mrr as double) / trailing_months as new_mrr_run_rate,
        cast(reactivation_mrr as double) / trailing_months as reactivation_mrr_run_rate
    from trailing_sums

),

-- open new-business deals as of the day, by expected close month (an overdue deal: next month)
pipeline as (

    select
        origins.as_of_month,
        cast(
            {{ dbt.datediff("origins.as_of_month", "snapshots.close_date", "month") }} as bigint  -- noqa: LT05
        ) as close_horizon,
        snapshots.amount_reporting,
        snapshots.probability
    from origins
    inner join snapshots
        on origins.as_of_date = snapshots.as_of_date

),

pipeline_by_horizon as (

    select
        as_of_month,
        case when close_horizon < 1 then 1 else close_horizon end as horizon_months,
        count(*) as pipeline_deals,
        sum(case when amount_reporting is null then 1 else 0 end) as pipeline_unconverted,
        -- annual contract value x probability (0..1) / 12: the monthly recurring revenue
        sum(amount_reporting * probability) / 12 as weighted_pipeline_mrr
    from pipeline
    group by
        as_of_month,
        case when close_horizon < 1 then 1 else close_horizon end

),

-- subscriptions set, as delivered by the as-of day, to cancel at the end of their period
scheduled as (

    select
        origins.as_of_month,
        subscription_versions.subscription_id,
        -- the first month without service: the month after the one holding its last second
        cast(
            {{ dbt.datediff(
                "origins.as_of_month",
                dbt.date_trunc("month", dbt.dateadd("second", -1, "subscription_versions.current_period_end_at")),
                "month"
            ) }} as bigint
        ) + 1 as horizon_months
    from origins
    inner join subscription_versions
        on
            origins.as_of_date >= subscription_versions.valid_from_date
            and (
                subscription_versions.valid_to_date is null
                or origins.as_of_date < subscription_versions.valid_to_date
            )
    where
        subscription_versions.current_period_end_at
        > cast({{ dbt.dateadd("day", 1, "origins.as_of_date") }} as timestamp)
        and (
            subscription_versions.ended_at is null
            or subscription_versions.ended_at
            > cast({{ dbt.dateadd("day", 1, "origins.as_of_date") }} as timestamp)
        )

),

scheduled_valued as (

    select
        scheduled.as_of_month,
        scheduled.horizon_months,
        scheduled.subscription_id,
        sum(subscription_months.monthly_value_x1200 * fx.rate_to_reporting) / 1200 as mrr,
        max(case when fx.rate_to_reporting is null then 1 else 0 end) as is_unconverted
    from scheduled
    inner join subscription_months
        on
            scheduled.subscription_id = subscription_months.subscription_id
            and scheduled.as_of_month = subscription_months.month_start_date
    inner join customer_months
        on
            subscription_months.customer_id = customer_months.customer_id
            and subscription_months.month_start_date = customer_months.month
    inner join origins
        on scheduled.as_of_month = origins.as_of_month
    left join fx
        on
            subscription_months.currency = fx.currency
            and origins.as_of_date = fx.calendar_date
    group by
        scheduled.as_of_month,
        scheduled.horizon_months,
        scheduled.subscription_id

),

scheduled_by_horizon as (

    select
        as_of_month,
        horizon_months,
        count(*) as scheduled_subscriptions,
        sum(is_unconverted) as scheduled_unconverted,
        sum(mrr) as scheduled_cancellation_mrr
    from scheduled_valued
    group by
        as_of_month,
        horizon_months

),

scheduled_totals as (

    select
        as_of_month,
        sum(scheduled_cancellation_mrr) as scheduled_cancellation_mrr,
        sum(scheduled_unconverted) as scheduled_unconverted
    from scheduled_by_horizon
    group by as_of_month

),

pipeline_totals as (

    select
        as_of_month,
        sum(pipeline_deals) as pipeline_deals,
        sum(pipeline_unconverted) as pipeline_unconverted
    from pipeline_by_horizon
    group by as_of_month

),

-- one row per forecast month: the flows added that month
steps as (

    select
        origins.as_of_month,
        origins.as_of_date,
        origins.current_mrr,
        horizons.horizon_months,
        rates.trailing_months,
        rates.churn_rate,
        rates.contraction_rate,
        rates.expansion_rate,
        1 - rates.churn_rate - rates.contraction_rate + rates.expansion_rate as retention_factor,
        case
            when horizons.horizon_months <= {{ pipeline_months }}
                then coalesce(pipeline_by_horizon.weighted_pipeline_mrr, 0)
            else rates.new_mrr_run_rate
        end as new_business_mrr,
        case
            when horizons.horizon_months <= {{ pipeline_months }}
                then 'pipeline'
            else 'run_rate'
        end as new_business_basis,
        rates.reactivation_mrr_run_rate as reactivation_mrr,
        coalesce(scheduled_by_horizon.scheduled_cancellation_mrr, 0) as scheduled_cancellation_mrr,
        cast(coalesce(scheduled_by_horizon.scheduled_subscriptions, 0) as bigint)
            as scheduled_subscriptions,
        -- scheduled to end after this month: held flat until then
        origins.current_mrr - coalesce(scheduled_totals.scheduled_cancellation_mrr, 0)
            as unscheduled_mrr,
        cast(coalesce(scheduled_totals.scheduled_unconverted, 0) as bigint)
            as scheduled_unconverted,
        cast(coalesce(pipeline_totals.pipeline_deals, 0) as bigint) as pipeline_deals,
        cast(coalesce(pipeline_totals.pipeline_unconverted, 0) as bigint) as pipeline_unconverted
    from origins
    cross join horizons
    inner join rates
        on origins.as_of_month = rates.as_of_month
    left join pipeline_by_horizon
        on
            origins.as_of_month = pipeline_by_horizon.as_of_month
            and horizons.horizon_months = pipeline_by_horizon.horizon_months
    left join scheduled_by_horizon
        on
            origins.as_of_month = scheduled_by_horizon.as_of_month
            and horizons.horizon_months = scheduled_by_horizon.horizon_months
    left join scheduled_totals
        on origins.as_of_month = scheduled_totals.as_of_month
    left join pipeline_totals
        on origins.as_of_month = pipeline_totals.as_of_month

),

-- the MRR that churns, contracts and expands: the unscheduled MRR and each month's additions,
-- compounded by the retention factor, at the end of this month and of the month before
decaying as (

    select
        steps.as_of_month,
        steps.horizon_months,
        max(steps.unscheduled_mrr * power(steps.retention_factor, steps.horizon_months))
        + sum(
            (earlier.new_business_mrr + earlier.reactivation_mrr)
            * power(steps.retention_factor, steps.horizon_months - earlier.horizon_months)
        ) as decaying_mrr,
        max(steps.unscheduled_mrr * power(steps.retention_factor, steps.horizon_months - 1))
        + coalesce(
            sum(
                case
                    when earlier.horizon_months < steps.horizon_months
                        then
                            (earlier.new_business_mrr + earlier.reactivation_mrr)
                            * power(
                                steps.retention_factor,
                                steps.horizon_months - 1 - earlier.horizon_months
                            )
                end
            ),
            0
        ) as previous_decaying_mrr
    from steps
    inner join steps as earlier
        on
            steps.as_of_month = earlier.as_of_month
            and steps.horizon_months >= earlier.horizon_months
    group by
        steps.as_of_month,
        steps.horizon_months

),

still_scheduled as (

    select
        steps.as_of_month,
        steps.horizon_months,
        sum(
            case
                when later.horizon_months > steps.horizon_months
                    then later.scheduled_cancellation_mrr
                else 0
            end
        ) as scheduled_not_yet_ended_mrr,
        sum(
            case
                when later.horizon_months <= steps.horizon_months
                    then later.scheduled_cancellation_mrr
                else 0
            end
        ) as cumulative_scheduled_cancellation_mrr
    from steps
    inner join steps as later
        on steps.as_of_month = later.as_of_month
    group by
        steps.as_of_month,
        steps.horizon_months

),

latest as (

    select max(as_of_month) as as_of_month from origins

),

final as (

    select
        '{{ setting("reporting_currency") }}' as reporting_currency,
        steps.new_business_basis,
        steps.horizon_months,
        steps.trailing_months,
        steps.pipeline_deals,
        steps.pipeline_unconverted,
        steps.scheduled_subscriptions,
        steps.scheduled_unconverted,
        steps.churn_rate as trailing_churn_rate,
        steps.contraction_rate as trailing_contraction_rate,
        steps.expansion_rate as trailing_expansion_rate,
        steps.current_mrr,
        {{ double_to_cents('steps.new_business_mrr') }} as expected_new_business_mrr,
        {{ double_to_cents('steps.reactivation_mrr') }} as expected_reactivation_mrr,
        {{ double_to_cents('steps.churn_rate * decaying.previous_decaying_mrr') }}
            as expected_churn_mrr,
        {{ double_to_cents('steps.contraction_rate * decaying.previous_decaying_mrr') }}
            as expected_contraction_mrr,
        {{ double_to_cents('steps.expansion_rate * decaying.previous_decaying_mrr') }}
            as expected_expansion_mrr,
        {{ double_to_cents('steps.scheduled_cancellation_mrr') }}
            as scheduled_cancellation_mrr,
        {{ double_to_cents('still_scheduled.cumulative_scheduled_cancellation_mrr') }}
            as cumulative_scheduled_cancellation_mrr,
        {{ double_to_cents('decaying.decaying_mrr + still_scheduled.scheduled_not_yet_ended_mrr') }}
            as forecast_mrr,
        steps.as_of_month = latest.as_of_month as is_latest_as_of,
        steps.as_of_date,
        steps.as_of_month,
        cast({{ dbt.dateadd("month", "steps.horizon_months", "steps.as_of_month") }} as date)
            as forecast_month
    from steps
    cross join latest
    inner join decaying
        on
            steps.as_of_month = decaying.as_of_month
            and steps.horizon_months = decaying.horizon_months
    inner join still_scheduled
        on
            steps.as_of_month = still_scheduled.as_of_month
            and steps.horizon_months = still_scheduled.horizon_months

)

select * from final
