-- One row per HubSpot contact (latest version): its original source (`hs_analytics_source`,
-- `hs_analytics_source_data_1`) mapped to a lead source by the mapping seed
-- hubspot_lead_sources. Matching ignores case and surrounding spaces; a seed row naming the
-- source's data_1 beats one that leaves it blank (any). A source no row maps has no lead source
-- (channel `other` downstream) and is reported by a warning test with its row count.
with

contacts as (

    select
        contact_id,
        analytics_source,
        analytics_source_data_1
    from {{ ref('stg_hubspot__contacts') }}

),

source_map as (

    select
        lower(trim(source_map.analytics_source)) as analytics_source,
        lower(trim(source_map.source_data_1)) as source_data_1,
        source_map.lead_source
    from {{ org_mapping('hubspot_lead_sources') }} as source_map

),

matches as (

    select
        contacts.contact_id,
        source_map.lead_source,
        row_number() over (
            partition by contacts.contact_id
            order by
                case when coalesce(source_map.source_data_1, '') = '' then 1 else 0 end,
                source_map.lead_source
        ) as match_rank
    from contacts
    inner join source_map
        on
            lower(trim(contacts.analytics_source)) = source_map.analytics_source
            and (
                coalesce(source_map.source_data_1, '') = ''
                or lower(trim(contacts.analytics_source_data_1)) = source_map.source_data_1
            )

),

final as (

    select
        contacts.contact_id,
        contacts.analytics_source,
        contacts.analytics_source_data_1,
        matches.lead_source,
        matches.lead_source is not null or contacts.analytics_source is null
            as is_lead_source_mapped
    from contacts
    left join matches
        on contacts.contact_id = matches.contact_id and matches.match_rank = 1

)

select * from final
