-- One row per expense (stg_reference__expenses: month x department x category) with its
-- amount in the reporting currency at the usable rate of the month's first day
-- (int_fx_rates_daily). Without a rate, amount_reporting is null and the row is flagged
-- is_unconverted: the cost metrics leave it out and count it, never as 0 in silence.
with

expenses as (

    select
        expense_id,
        department,
        expense_category,
        currency,
        amount,
        month_start_date
    from {{ ref('stg_reference__expenses') }}

),

fx_rates as (

    select
        currency,
        calendar_date,
        rate_to_reporting
    from {{ ref('int_fx_rates_daily') }}

),

final as (

    select
        expenses.expense_id,
        expenses.department,
        expenses.expense_category,
        expenses.currency,
        expenses.amount,
        round(expenses.amount * fx_rates.rate_to_reporting, 2) as amount_reporting,
        expenses.amount is not null
        and fx_rates.rate_to_reporting is null as is_unconverted,
        expenses.month_start_date
    from expenses
    left join fx_rates
        on
            expenses.currency = fx_rates.currency
            and expenses.month_start_date = fx_rates.calendar_date

)

select * from final
