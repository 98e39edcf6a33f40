-- Won deals per close month and currency in fct_opportunities equal the latest, not deleted
-- Salesforce opportunity versions in staging (in their own currencies, so FX conversion cannot
-- hide a lost or doubled row; an empty currency is the corporate currency on both sides): the
-- number of won deals, the number with an amount, and the amount summed. Compared with
-- `is distinct from`, so won deals without an Amount are counted, not lost, and a null sum on
-- one side only fails.
with

mart as (

    select
        {{ dbt.date_trunc("month", "close_date") }} as close_month,
        currency,
        count(*) as won_deals,
        count(amount) as won_deals_with_amount,
        sum(amount) as won_amount
    from {{ ref('fct_opportunities') }}
    where is_won
    group by {{ dbt.date_trunc("month", "close_date") }}, currency

),

staged as (

    select
        {{ dbt.date_trunc("month", "close_date") }} as close_month,
        coalesce(currency, '{{ setting("corporate_currency") }}') as currency,
        count(*) as won_deals,
        count(amount) as won_deals_with_amount,
        sum(amount) as won_amount
    from {{ ref('int_crm_opportunities_unioned') }}
    where is_won and not is_deleted
    group by
        {{ dbt.date_trunc("month", "close_date") }},
        coalesce(currency, '{{ setting("corporate_currency") }}')

)

select
    coalesce(mart.close_month, staged.close_month) as close_month,
    coalesce(mart.currency, staged.currency) as currency,
    mart.won_deals as mart_won_deals,
    staged.won_deals as staged_won_deals,
    mart.won_amount as mart_won_amount,
    staged.won_amount as staged_won_amount
from mart
full outer join staged
    on
        mart.close_month is not distinct from staged.close_month
        and mart.currency is not distinct from staged.currency
where
    mart.won_deals is distinct from staged.won_deals
    or mart.won_deals_with_amount is distinct from staged.won_deals_with_amount
    or mart.won_amount is distinct from staged.won_amount
