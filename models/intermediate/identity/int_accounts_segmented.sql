-- One row per CRM account (deleted ones excluded): firmographics, segment by head count, owner,
-- customer status, and the billing customer linked to it (by crm_account_id metadata, else by
-- email domain).
with

accounts as (

    select
        account_id,
        owner_id,
        owner_type,
        account_name,
        website_domain,
        industry,
        billing_country,
        account_type,
        currency,
        number_of_employees,
        created_at
    from {{ ref('int_crm_accounts_unioned') }}
    where not is_deleted

),

segment_bands as (

    select
        bands.segment,
        bands.min_employees,
        bands.max_employees
    from {{ org_mapping('segment_bands') }} as bands

),

customers as (

    select
        account_id,
        customer_id
    from {{ ref('int_customers_linked') }}

),

first_customer as (

    select
        account_id,
        min(customer_id) as customer_id,
        count(*) as billing_customers
    from customers
    where account_id is not null
    group by account_id

),

final as (

    select
        accounts.account_id,
        accounts.owner_id,
        accounts.owner_type,
        first_customer.customer_id,
        accounts.account_name,
        accounts.website_domain,
        accounts.industry,
        accounts.billing_country,
        accounts.account_type,
        accounts.currency,
        accounts.number_of_employees,
        accounts.created_at,
        coalesce(segment_bands.segment, 'Unknown') as segment,
        coalesce(first_customer.billing_customers, 0) as billing_customers
    from accounts
    left join segment_bands
        on
            accounts.number_of_employees >= segment_bands.min_employees
            and (
                accounts.number_of_employees <= segment_bands.max_employees
                or segment_bands.max_employees is null
            )
    left join first_customer
        on accounts.account_id = first_customer.account_id

)

select * from final
