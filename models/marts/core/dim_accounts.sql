-- One row per CRM account (deleted ones excluded): the published account dimension. The
-- segmenting and customer linking live in int_accounts_segmented, which intermediate models
-- read too (an intermediate model never reads a mart).
with

accounts as (

    select
        account_id,
        owner_id,
        owner_type,
        customer_id,
        account_name,
        website_domain,
        industry,
        billing_country,
        account_type,
        currency,
        number_of_employees,
        created_at,
        segment,
        billing_customers
    from {{ ref('int_accounts_segmented') }}

),

final as (

    select * from accounts

)

select * from final
