-- One row per marketing touch of a known lead: the touch (campaign, channel from its UTM
-- medium) linked to the lead by normalised email. Touches of unknown people and of excluded
-- or deleted leads are left out; a person with several leads is tied to each of them.
--
-- Incremental (macros/identity/incremental_identity.sql), keyed by the touch's email:
--   * the pre-hook deletes every row of the emails whose set of reportable leads changed
--     (`_leads_signature`, a signature of the email's lead ids kept on the rows of its first
--     touch, about one row per email, differs from the one now: a lead added or removed, an
--     email changed, `is_reportable` flipped), that have no reportable lead any more, or
--     whose first touch is now a late-loaded earlier one; the model ties every touch of
--     those emails again (a semi-join of the touches on them);
--   * the touches loaded after the newest `_loaded_at` stored, of the other emails, are tied
--     to their (unchanged) leads and appended. The rows left after the pre-hook all belong to
--     unaffected emails, so every touch of such an email loaded up to that watermark, and
--     none later, is already here.
--   The pre-hook finds the affected emails once and keeps them for this SQL
--   (kept_affected_keys); the model reads the leads (and their signatures) of the emails of
--   the touches it ties only.
{{ config(**affected_keys_config([
    "{{ revops.touches_resolved_keep_affected() }}",
    "{{ revops.touches_resolved_delete_affected() }}",
])) }}

{%- set touch_columns = [
    'activity_id', 'campaign_id', 'email', 'activity_type', 'utm_source', 'utm_medium',
    'utm_campaign', 'activity_at', '_loaded_at',
] %}

with

{%- if is_incremental() %}

affected_emails as (

    -- found by the pre-hook, before it deleted their rows
    select affected.email
    from {{ kept_affected_keys_relation('emails', touches_resolved_affected_emails()) }}
        as affected

),
{%- endif %}

touches as (

    select
        {{ touch_columns | join(',\n        ') }}
    from {{ ref('stg_marketing_automation__activities') }}
    {%- if is_incremental() %}
    where
        _loaded_at > (
            select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) from {{ this }}
        )
        and email not in (select email from affected_emails)
    union all
    select
        {{ touch_columns | join(',\n        ') }}
    from {{ ref('stg_marketing_automation__activities') }}
    where email in (select email from affected_emails)
    {%- endif %}

),

leads as (

    select
        all_leads.lead_id,
        all_leads.email
    from ({{ touches_resolved_leads() }}) as all_leads
    {%- if is_incremental() %}
    -- only the emails of the touches tied in this run (each with all of its leads)
    where all_leads.email in (select touches.email from touches)
    {%- endif %}

),

lead_sets as (

    -- touches_resolved_lead_signatures, over the emails tied in this run
    select
        email,
        {{ row_set_signature(['lead_id']) }} as leads_signature
    from leads
    group by email

),

people as (

    select
        email,
        first_touched_at
    from {{ ref('int_people_resolved') }}

),

medium_channels as (

    select
        medium_map.utm_medium,
        medium_map.channel
    from {{ org_mapping('utm_medium_channels') }} as medium_map

),

final as (

    select
        touches.activity_id as touch_id,
        leads.lead_id,
        touches.campaign_id,
        touches.email,
        touches.activity_type,
        touches.utm_source,
        touches.utm_medium,
        touches.utm_campaign,
        touches.activity_at as touched_at,
        coalesce(medium_channels.channel, 'direct') as channel,
        -- what the email's rows were built from: its set of leads, kept on the rows of its
        -- first touch only (all rows when no touch has a time); and the touch's load time
        case
            when
                touches.activity_at = people.first_touched_at
                or people.first_touched_at is null
                then lead_sets.leads_signature
        end as _leads_signature,
        touches._loaded_at
    from touches
    inner join leads
        on touches.email = leads.email
    inner join lead_sets
        on touches.email = lead_sets.email
    left join people
        on touches.email = people.email
    left join medium_channels
        on touches.utm_medium = medium_channels.utm_medium

)

select * from final
