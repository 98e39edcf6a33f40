-- One row per Stripe customer (deletes flagged): the CRM account it belongs to, by its
-- `metadata.crm_account_id`, else by its email domain matching an account's web domain; and
-- whether it is a test or internal customer (seed excluded_email_domains).
with

customers as (

    select
        customer_id,
        crm_account_id,
        email,
        email_domain,
        currency,
        is_deleted
    from {{ ref('stg_stripe__customers') }}

),

accounts as (

    select
        account_id,
        website_domain
    from {{ ref('int_crm_accounts_unioned') }}
    where not is_deleted

),

domain_accounts as (

    -- A domain shared by several accounts links to none of them: ambiguous matches are left
    -- unlinked rather than guessed.
    select
        website_domain,
        min(account_id) as account_id
    from accounts
    where website_domain is not null
    group by website_domain
    having count(*) = 1

),

excluded_domains as (

    select email_domain from {{ org_mapping('excluded_email_domains') }}

),

final as (

    select
        customers.customer_id,
        customers.email_domain,
        customers.currency,
        customers.is_deleted,
        coalesce(by_id.account_id, domain_accounts.account_id) as account_id,
        case
            when by_id.account_id is not null then 'crm_account_id'
            when domain_accounts.account_id is not null then 'email_domain'
            else 'unlinked'
        end as link_method,
        excluded_domains.email_domain is not null as is_excluded
    from customers
    left join accounts as by_id
        on customers.crm_account_id = by_id.account_id
    left join domain_accounts
        on
            customers.crm_account_id is null
            and customers.email_domain = domain_accounts.website_domain
    left join excluded_domains
        on customers.email_domain = excluded_domains.email_domain

)

select * from final
