-- One row per billing customer x month, from the customer's first month with service to the
-- latest month of history: MRR in the reporting currency, the previous month's MRR, and the
-- movement that explains the change (docs/METRICS.md, "Billing: MRR and movements").
with

customer_months as (

    select
        customer_id,
        account_id,
        segment,
        currency,
        reporting_currency,
        mrr,
        mrr_constant_currency,
        month_start_date
    from {{ ref('int_mrr_customer_months') }}

),

with_history as (

    select
        *,
        -- A month whose MRR or previous MRR could not be converted (no usable FX rate) has no
        -- known movement: it is `unconverted`, with null MRR where unknown and no movement amounts.
        row_number() over (partition by customer_id order by month_start_date) > 1
        and lag(mrr) over (partition by customer_id order by month_start_date) is null
            as is_previous_unconverted,
        coalesce(
            lag(mrr) over (partition by customer_id order by month_start_date),
            0
        ) as previous_mrr,
        coalesce(
            max(mrr) over (
                partition by customer_id
                order by month_start_date
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as max_previous_mrr
    from customer_months

),

classified as (

    -- Order matters: a move to zero is a churn before it can be a contraction.
    select
        *,
        case
            when mrr is null or is_previous_unconverted then 'unconverted'
            when previous_mrr = 0 and mrr > 0 and max_previous_mrr = 0 then 'new'
            when previous_mrr = 0 and mrr > 0 then 'reactivation'
            when previous_mrr > 0 and mrr = 0 then 'churn'
            when mrr > previous_mrr then 'expansion'
            when mrr < previous_mrr then 'contraction'
            when mrr > 0 then 'unchanged'
            else 'inactive'
        end as movement
    from with_history

),

final as (

    select
        customer_id,
        account_id,
        segment,
        currency,
        reporting_currency,
        movement,
        mrr,
        case when not is_previous_unconverted then previous_mrr end as previous_mrr,
        cast(12 * mrr as decimal(18, 2)) as arr,
        mrr_constant_currency,
        cast(case when movement = 'new' then mrr else 0 end as decimal(18, 2)) as new_mrr,
        cast(
            case when movement = 'reactivation' then mrr else 0 end as decimal(18, 2)
        ) as reactivation_mrr,
        cast(
            case when movement = 'expansion' then mrr - previous_mrr else 0 end
            as decimal(18, 2)
        ) as expansion_mrr,
        cast(
            case when movement = 'contraction' then previous_mrr - mrr else 0 end
            as decimal(18, 2)
        ) as contraction_mrr,
        cast(
            case when movement = 'churn' then previous_mrr else 0 end as decimal(18, 2)
        ) as churn_mrr,
        -- MRR is null only in service (int_mrr_customer_months): such a customer is active.
        coalesce(mrr > 0, true) as is_active,
        -- `month` is the public column name of the billing marts.
        month_start_date as month  -- noqa: RF04
    from classified

)

select * from final
