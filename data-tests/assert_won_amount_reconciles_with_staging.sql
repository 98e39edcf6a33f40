-- Won amount per close month in fct_opportunities equals the won amount of the latest,
-- not deleted Salesforce opportunity versions in staging (in their own currencies, so FX
-- conversion cannot hide a lost or doubled row).
with

mart as (

    select
        {{ dbt.date_trunc("month", "close_date") }} as close_month,
        currency,
        sum(amount) as won_amount
    from {{ ref('fct_opportunities') }}
    where is_won
    group by 1, 2

),

staged as (

    select
        {{ dbt.date_trunc("month", "close_date") }} as close_month,
        currency,
        sum(amount) as won_amount
    from {{ ref('stg_salesforce__opportunities') }}
    where is_won and not is_deleted
    group by 1, 2

)

select
    coalesce(mart.close_month, staged.close_month) as close_month,
    coalesce(mart.currency, staged.currency) as currency,
    mart.won_amount as mart_won_amount,
    staged.won_amount as staged_won_amount
from mart
full outer join staged
    on mart.close_month = staged.close_month and mart.currency = staged.currency
where mart.won_amount is null
    or staged.won_amount is null
    or mart.won_amount <> staged.won_amount
