-- One row per marketing touch of a known lead: the touch (campaign, channel from its UTM
-- medium) linked to the lead by normalised email. Touches of unknown people and of excluded
-- or deleted leads are left out; a person with several leads is tied to each of them.
with

touches as (

    select
        activity_id,
        campaign_id,
        email,
        activity_type,
        utm_source,
        utm_medium,
        utm_campaign,
        activity_at
    from {{ ref('stg_marketing_automation__activities') }}

),

leads as (

    select
        lead_id,
        email
    from {{ ref('int_leads_staged') }}
    where is_reportable and email is not null

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
        touches.activity_type,
        touches.utm_source,
        touches.utm_medium,
        touches.utm_campaign,
        touches.activity_at as touched_at,
        coalesce(medium_channels.channel, 'direct') as channel
    from touches
    inner join leads
        on touches.email = leads.email
    left join medium_channels
        on touches.utm_medium = medium_channels.utm_medium

)

select * from final
