-- One row per person, identified by normalised email (lower-cased, trimmed) across CRM leads,
-- CRM contacts and marketing touches: their earliest lead, their contact, the account they
-- belong to (the contact's, else the account their lead converted into) and their touches.
-- Deleted leads and contacts do not identify anyone; excluded domains are flagged.
with

leads as (

    select
        lead_id,
        email,
        email_domain,
        converted_account_id,
        created_at
    from {{ ref('int_crm_leads_unioned') }}
    where not is_deleted and email is not null

),

contacts as (

    select
        contact_id,
        account_id,
        email,
        email_domain,
        created_at
    from {{ ref('int_crm_contacts_unioned') }}
    where not is_deleted and email is not null

),

touches as (

    select
        email,
        email_domain,
        activity_at
    from {{ ref('stg_marketing_automation__activities') }}
    where email is not null

),

excluded_domains as (

    select email_domain from {{ org_mapping('excluded_email_domains') }}

),

touch_summary as (

    -- One pass over the touches (the largest input) gives both the emails they add and
    -- their counts: the domain is a function of the email, so grouping by both is by email.
    select
        email,
        email_domain,
        count(*) as touch_count,
        min(activity_at) as first_touched_at,
        max(activity_at) as last_touched_at
    from touches
    group by email, email_domain

),

emails as (

    select
        email,
        email_domain
    from leads
    union
    select
        email,
        email_domain
    from contacts
    union
    select
        email,
        email_domain
    from touch_summary

),

ranked_leads as (

    select
        email,
        lead_id,
        converted_account_id,
        row_number() over (partition by email order by created_at asc, lead_id asc) as lead_rank,
        count(*) over (partition by email) as lead_count
    from leads

),

ranked_contacts as (

    select
        email,
        contact_id,
        account_id,
        row_number() over (
            partition by email order by created_at asc, contact_id asc
        ) as contact_rank
    from contacts

),

final as (

    select
        {{ surrogate_key(["emails.email"]) }} as person_id,
        ranked_leads.lead_id as first_lead_id,
        ranked_contacts.contact_id,
        coalesce(ranked_contacts.account_id, ranked_leads.converted_account_id) as account_id,
        emails.email,
        emails.email_domain,
        coalesce(ranked_leads.lead_count, 0) as lead_count,
        coalesce(touch_summary.touch_count, 0) as touch_count,
        excluded_domains.email_domain is not null as is_excluded,
        touch_summary.first_touched_at,
        touch_summary.last_touched_at
    from emails
    left join ranked_leads
        on emails.email = ranked_leads.email and ranked_leads.lead_rank = 1
    left join ranked_contacts
        on emails.email = ranked_contacts.email and ranked_contacts.contact_rank = 1
    left join touch_summary
        on emails.email = touch_summary.email
    left join excluded_domains
        on emails.email_domain = excluded_domains.email_domain

)

select * from final
