{#-
    The state fields of a HubSpot deal line, renamed and cast, shared by the latest version
    (stg_hubspot__deals) and every delivered version (stg_hubspot__deal_versions), so the two
    cannot parse a field differently. An empty `deal_currency_code` is the portal's company
    currency (decided downstream); `closedate` may be a datetime (`2025-03-01T00:00:00.000Z`)
    or a date (`2025-03-01`): its UTC date.
-#}
{% macro hubspot_deal_state_fields() -%}
        {{ revops.hubspot_property('dealtype') }} as deal_type,
        upper({{ revops.hubspot_property('deal_currency_code') }}) as currency,
        {{ revops.try_cast(revops.hubspot_property('amount'), 'decimal(18, 2)') }} as amount,
        {{ revops.try_cast(revops.hubspot_property('hs_deal_stage_probability'), 'decimal(5, 4)') }}
            as stage_probability,
        {{ revops.hubspot_boolean(revops.hubspot_property('hs_is_closed')) }} as is_closed,
        {{ revops.hubspot_boolean(revops.hubspot_property('hs_is_closed_won')) }} as is_won,
        coalesce({{ revops.try_cast('lower(trim(archived))', 'boolean') }}, false) as is_archived,
        cast({{ revops.hubspot_timestamp(revops.hubspot_property('closedate')) }} as date)
            as close_date,
        coalesce(
            {{ revops.hubspot_timestamp(revops.hubspot_property('createdate')) }},
            {{ revops.parse_utc_timestamp('createdAt') }}
        ) as created_at,
        {{ revops.parse_utc_timestamp('updatedAt') }} as last_modified_at,
{%- endmacro %}
