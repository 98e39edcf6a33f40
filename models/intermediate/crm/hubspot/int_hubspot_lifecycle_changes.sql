-- One row per lifecycle stage a surviving HubSpot contact entered, oldest first: from the
-- exported `lifecyclestage` history (`propertiesWithHistory`; a value equal to the one before
-- is no change), else, for a contact exported without it, from its `hs_lifecyclestage_<stage>_date`
-- properties (first entry per stage only: a stage set backwards is not visible there). A contact
-- that got a deal without ever entering a stage the mapping seed lead_status_stages counts as
-- `converted` enters the `hubspot_deal_lifecycle_stage` setting's stage when its first deal is
-- created (HubSpot's own lifecycle sync does the same). change_number 1 is the stage the contact
-- was created with.
{%- set deal_stage = setting('hubspot_deal_lifecycle_stage') %}
with

contacts as (

    select
        contacts.contact_id,
        contacts.became_subscriber_at,
        contacts.became_lead_at,
        contacts.became_mql_at,
        contacts.became_sql_at,
        contacts.became_opportunity_at,
        contacts.became_customer_at,
        contacts.became_evangelist_at,
        contacts.became_other_at,
        contacts._delivery_date,
        contacts._file_path,
        contacts._row_number,
        contacts._loaded_at
    from {{ ref('stg_hubspot__contacts') }} as contacts
    left join {{ ref('int_hubspot_merged_records') }} as merged
        on merged.object_type = 'contact' and contacts.contact_id = merged.merged_id
    where merged.merged_id is null

),

history as (

    select
        contact_id,
        property_value as lifecycle_stage,
        changed_at as entered_at,
        contact_property_change_id as change_id,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('stg_hubspot__contact_property_history') }}
    where property_name = 'lifecyclestage'

),

stage_map as (

    select
        stage_map.lead_status,
        stage_map.funnel_stage_rank
    from {{ org_mapping('lead_status_stages') }} as stage_map
    where stage_map.source_system = 'hubspot'

),

deals as (

    select
        coalesce(merged_contacts.surviving_id, deals.contact_id) as contact_id,
        min(deals.created_at) as first_deal_at
    from {{ ref('stg_hubspot__deals') }} as deals
    left join {{ ref('int_hubspot_merged_records') }} as merged_deals
        on merged_deals.object_type = 'deal' and deals.deal_id = merged_deals.merged_id
    left join {{ ref('int_hubspot_merged_records') }} as merged_contacts
        on merged_contacts.object_type = 'contact' and deals.contact_id = merged_contacts.merged_id
    where deals.contact_id is not null and merged_deals.merged_id is null
    group by coalesce(merged_contacts.surviving_id, deals.contact_id)

),

history_entries as (

    select
        history.contact_id,
        history.lifecycle_stage,
        history.entered_at,
        history.change_id,
        'history' as change_source,
        lag(history.lifecycle_stage) over (
            partition by history.contact_id order by history.entered_at, history.change_id
        ) as previous_stage,
        history._delivery_date,
        history._file_path,
        history._row_number,
        history._loaded_at
    from history
    inner join contacts
        on history.contact_id = contacts.contact_id

),

date_entries as (

    {%- set date_columns = [
        ('subscriber', 'became_subscriber_at'),
        ('lead', 'became_lead_at'),
        ('marketingqualifiedlead', 'became_mql_at'),
        ('salesqualifiedlead', 'became_sql_at'),
        ('opportunity', 'became_opportunity_at'),
        ('customer', 'became_customer_at'),
        ('evangelist', 'became_evangelist_at'),
        ('other', 'became_other_at'),
    ] %}
    {%- for stage, column in date_columns %}
    select
        contacts.contact_id,
        '{{ stage }}' as lifecycle_stage,
        contacts.{{ column }} as entered_at,
        -- HubSpot's own stage order breaks ties between stages dated the same instant.
        {{ dbt.concat(["contacts.contact_id", "':date:" ~ loop.index ~ "'"]) }} as change_id,
        'dates' as change_source,
        cast(null as {{ dbt.type_string() }}) as previous_stage,
        contacts._delivery_date,
        contacts._file_path,
        contacts._row_number,
        contacts._loaded_at
    from contacts
    where
        contacts.{{ column }} is not null
        and contacts.contact_id not in (select history.contact_id from history)
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

entries as (

    select * from history_entries
    where previous_stage is null or lifecycle_stage is null or lifecycle_stage != previous_stage
    union all
    select * from date_entries

),

converted as (

    select
        entries.contact_id,
        min(entries.entered_at) as converted_at
    from entries
    inner join stage_map
        on entries.lifecycle_stage = stage_map.lead_status
    where stage_map.funnel_stage_rank >= 3
    group by entries.contact_id

),

deal_entries as (

    select
        deals.contact_id,
        '{{ deal_stage }}' as lifecycle_stage,
        deals.first_deal_at as entered_at,
        {{ dbt.concat(["deals.contact_id", "':deal'"]) }} as change_id,
        'deal' as change_source,
        cast(null as {{ dbt.type_string() }}) as previous_stage,
        contacts._delivery_date,
        contacts._file_path,
        contacts._row_number,
        contacts._loaded_at
    from deals
    inner join contacts
        on deals.contact_id = contacts.contact_id
    left join converted
        on deals.contact_id = converted.contact_id
    where converted.contact_id is null

),

all_entries as (

    select * from entries
    union all
    select * from deal_entries

),

final as (

    select
        change_id,
        contact_id,
        lifecycle_stage,
        change_source,
        row_number() over (
            partition by contact_id order by entered_at, change_id
        ) as change_number,
        entered_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from all_entries

)

select * from final
