-- One row per billing customer x month (from int_mrr_movements_classified): the customer's part of
-- the monthly and trailing-12-month net and gross revenue retention of its segment, in constant
-- currency. A customer is in the monthly cohort when it had MRR the month before, in the
-- trailing-12 cohort when it had MRR twelve months before; its retained MRR is this month's MRR at
-- the rate of the cohort month (last month's, or the month a year earlier), so an exchange-rate
-- move is neither expansion nor contraction. GRR caps the retained MRR at the cohort MRR (no
-- expansion).
-- Incremental by customer (macros/billing/affected_keys.sql): a run recomputes, whole, only the
-- customers whose movements (or MRR at the year-ago rate) changed; `_inputs_signature` records
-- them. The pre-hooks find those customers once and keep them for this SQL (kept_affected_keys).
{{ config(**affected_keys_config([
    "{{ revops.mrr_retention_keep_affected() }}",
    "{{ revops.mrr_retention_delete_affected() }}",
])) }}

with

{% if is_incremental() -%}
affected_customers as (

    select affected.customer_id
    from {{ kept_affected_keys_relation('customers', mrr_retention_affected_customers()) }}
        as affected

),

{% endif -%}

customer_months as (

    select
        customer_id,
        segment,
        mrr,
        previous_mrr,
        mrr_at_previous_month_rate,
        month
    from {{ ref('int_mrr_movements_classified') }}
    {%- if is_incremental() %}
    where customer_id in (select customer_id from affected_customers)
    {%- endif %}

),

converted_months as (

    select
        customer_id,
        mrr_at_year_ago_rate,
        month_start_date
    from {{ ref('int_mrr_customer_months') }}
    {%- if is_incremental() %}
    where customer_id in (select customer_id from affected_customers)
    {%- endif %}

),

year_ago as (

    select
        customer_id,
        mrr as mrr_12_months_ago,
        {{ dbt.dateadd('month', 12, 'month') }} as retained_month
    from customer_months

),

joined as (

    select
        customer_months.customer_id,
        customer_months.segment,
        customer_months.mrr,
        customer_months.previous_mrr,
        customer_months.mrr_at_previous_month_rate,
        converted_months.mrr_at_year_ago_rate,
        coalesce(year_ago.mrr_12_months_ago, 0) as mrr_12_months_ago,
        customer_months.month
    from customer_months
    left join converted_months
        on
            customer_months.customer_id = converted_months.customer_id
            and customer_months.month = converted_months.month_start_date
    left join year_ago
        on
            customer_months.customer_id = year_ago.customer_id
            and customer_months.month = cast(year_ago.retained_month as date)

),

signatures as (

    -- Every row of each customer above: its signature equals the one computed over all
    -- customers (mrr_retention_signatures).
    select
        customer_id,
        {{ row_set_signature(mrr_retention_signature_columns()) }} as inputs_signature
    from joined
    group by customer_id

),

signed as (

    select
        joined.*,
        signatures.inputs_signature
    from joined
    inner join signatures
        on joined.customer_id = signatures.customer_id

),

final as (

    select
        customer_id,
        segment,
        mrr,
        previous_mrr,
        mrr_12_months_ago,
        mrr_at_previous_month_rate,
        mrr_at_year_ago_rate,
        cast(
            case when previous_mrr > 0 then previous_mrr else 0 end as decimal(18, 2)
        ) as monthly_retention_base_mrr,
        cast(
            case when previous_mrr > 0 then mrr_at_previous_month_rate else 0 end
            as decimal(18, 2)
        ) as monthly_net_retained_mrr,
        cast(
            case
                when previous_mrr > 0 and mrr_at_previous_month_rate > previous_mrr
                    then previous_mrr
                when previous_mrr > 0 then mrr_at_previous_month_rate
                else 0
            end as decimal(18, 2)
        ) as monthly_gross_retained_mrr,
        cast(
            case when mrr_12_months_ago > 0 then mrr_12_months_ago else 0 end
            as decimal(18, 2)
        ) as trailing_12m_retention_base_mrr,
        cast(
            case when mrr_12_months_ago > 0 then mrr_at_year_ago_rate else 0 end
            as decimal(18, 2)
        ) as trailing_12m_net_retained_mrr,
        cast(
            case
                when mrr_12_months_ago > 0 and mrr_at_year_ago_rate > mrr_12_months_ago
                    then mrr_12_months_ago
                when mrr_12_months_ago > 0 then mrr_at_year_ago_rate
                else 0
            end as decimal(18, 2)
        ) as trailing_12m_gross_retained_mrr,
        previous_mrr > 0 as is_in_monthly_cohort,
        mrr_12_months_ago > 0 as is_in_trailing_12m_cohort,
        month,
        inputs_signature as _inputs_signature
    from signed

)

select * from final
