-- One row per person, identified by normalised email (lower-cased, trimmed) across CRM leads,
-- CRM contacts and marketing touches: their earliest lead, their contact, the account they
-- belong to (the contact's, else the account their lead converted into) and their touches.
-- Deleted leads and contacts do not identify anyone; excluded domains are flagged.
--
-- Incremental (macros/identity/incremental_identity.sql): a run recomputes only the affected
-- emails and replaces their rows (delete+insert by email):
--   * emails of the touches loaded after the newest `_loaded_at` stored (the newest load time
--     of each email's touches). Touches are append-only, so an email's touch count, first and
--     last touch are its stored ones combined with its new touches: the ~20 M touches are read
--     through the watermark only, never aggregated again;
--   * emails whose CRM rows changed: `_inputs_signature` (a signature of the email's leads and
--     contacts) differs from the one now, or the email has no CRM row any more (an email
--     changed: the old one; a delete; a merge). The first pre-hook finds them in one pass and
--     keeps them for this SQL; the second deletes the people left with no touch and no CRM
--     row.
{{ config(**people_resolved_config()) }}

{%- set summary_columns = [
    'email', 'email_domain', 'touch_count', 'first_touched_at', 'last_touched_at', '_loaded_at',
] %}

with

touches as (

    select
        email,
        email_domain,
        activity_at,
        _loaded_at
    from {{ ref('stg_marketing_automation__activities') }}
    where email is not null
    {%- if is_incremental() %}
        and _loaded_at > (
            select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) from {{ this }}
        )
    {%- endif %}

),

all_crm_rows as (

    {{ people_resolved_crm_rows() }}

),

excluded_domains as (

    select email_domain from {{ org_mapping('excluded_email_domains') }}

),

new_touch_summary as (

    -- One pass over the touches (the largest input; on an incremental run the new ones only)
    -- gives both the emails they add and their counts: the domain is a function of the
    -- email, so grouping by both is by email.
    select
        email,
        email_domain,
        cast(count(*) as {{ dbt.type_bigint() }}) as touch_count,
        min(activity_at) as first_touched_at,
        max(activity_at) as last_touched_at,
        max(_loaded_at) as _loaded_at
    from touches
    group by email, email_domain

),
{%- if is_incremental() %}

stored as (

    select
        email,
        email_domain,
        touch_count,
        first_touched_at,
        last_touched_at,
        _loaded_at
    from {{ this }}

),

affected_emails as (

    select email from new_touch_summary
    union
    -- the emails whose CRM rows are new, gone or changed: one comparison, by email, of the
    -- signatures now with the stored ones, made by the pre-hook and kept for this SQL
    select affected.email
    from {{ kept_affected_keys_relation('emails', people_resolved_crm_affected_emails()) }}
        as affected

),

touch_summary as (

    -- the affected emails' stored counts combined with their new touches
    select
        email,
        email_domain,
        cast(sum(touch_count) as {{ dbt.type_bigint() }}) as touch_count,
        min(first_touched_at) as first_touched_at,
        max(last_touched_at) as last_touched_at,
        max(_loaded_at) as _loaded_at
    from (
        select
            {{ summary_columns | join(',\n            ') }}
        from stored
        where touch_count > 0 and email in (select email from affected_emails)
        union all
        select
            {{ summary_columns | join(',\n            ') }}
        from new_touch_summary
    ) as counts
    group by email, email_domain

),

crm_rows as (

    select * from all_crm_rows
    where email in (select email from affected_emails)

),
{%- else %}

touch_summary as (

    select * from new_touch_summary

),

crm_rows as (

    select * from all_crm_rows

),
{%- endif %}

crm_signatures as (

    {{ people_resolved_crm_signatures('crm_rows') }}

),

leads as (

    select
        record_id as lead_id,
        email,
        email_domain,
        account_id as converted_account_id,
        created_at
    from crm_rows
    where record_type = 'lead'

),

contacts as (

    select
        record_id as contact_id,
        account_id,
        email,
        email_domain,
        created_at
    from crm_rows
    where record_type = 'contact'

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
        touch_summary.last_touched_at,
        -- what the row was built from: its email's CRM rows (null: none) and newest touch load
        crm_signatures.inputs_signature as _inputs_signature,
        touch_summary._loaded_at
    from emails
    left join ranked_leads
        on emails.email = ranked_leads.email and ranked_leads.lead_rank = 1
    left join ranked_contacts
        on emails.email = ranked_contacts.email and ranked_contacts.contact_rank = 1
    left join touch_summary
        on emails.email = touch_summary.email
    left join crm_signatures
        on emails.email = crm_signatures.email
    left join excluded_domains
        on emails.email_domain = excluded_domains.email_domain

)

select * from final
