-- One row per HubSpot marketing campaign (optional export): the latest delivered version
-- (latest `updatedAt`), archived campaigns flagged.
{{ config(**latest_version_config('campaign_id')) }}

with

source as (

    select
        id,
        properties,
        createdAt,
        updatedAt,
        archived,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('hubspot', 'campaigns') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        trim(id) as campaign_id,
        {{ hubspot_property('hs_name') }} as campaign_name,
        {{ hubspot_property('hs_campaign_status') }} as campaign_status,
        upper({{ hubspot_property('hs_currency_code') }}) as currency,
        {{ try_cast(hubspot_property('hs_budget_items_sum_amount'), 'decimal(18, 2)') }}
            as budget_amount,
        {{ try_cast(hubspot_property('hs_spend_items_sum_amount'), 'decimal(18, 2)') }}
            as spend_amount,
        cast({{ hubspot_timestamp(hubspot_property('hs_start_date')) }} as date) as start_date,
        cast({{ hubspot_timestamp(hubspot_property('hs_end_date')) }} as date) as end_date,
        coalesce({{ try_cast('lower(trim(archived))', 'boolean') }}, false) as is_archived,
        {{ parse_utc_timestamp('createdAt') }} as created_at,
        {{ parse_utc_timestamp('updatedAt') }} as last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

candidates as (

    {{ with_current_versions('renamed', 'campaign_id') }}

),

ranked as (

    select
        *,
        {{ latest_version_rank('campaign_id', 'last_modified_at') }} as version_rank
    from candidates

),

final as (

    select
        campaign_id,
        campaign_name,
        campaign_status,
        currency,
        budget_amount,
        spend_amount,
        start_date,
        end_date,
        is_archived,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
