-- One row per HubSpot marketing campaign in the shape of a CRM campaign
-- (int_crm_campaigns_unioned): budget and spend as the budgeted and actual cost. HubSpot has
-- no campaign type (null). The `_usd` columns hold the campaign's own currency, as Salesforce's
-- cost columns hold the corporate currency.
with

campaigns as (

    select
        campaign_id,
        campaign_name,
        campaign_status,
        budget_amount,
        spend_amount,
        is_archived,
        start_date,
        end_date,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ ref('stg_hubspot__campaigns') }}

),

final as (

    select
        campaign_id,
        'hubspot' as crm_source,
        campaign_name,
        cast(null as {{ dbt.type_string() }}) as campaign_type,
        campaign_status,
        cast(budget_amount as decimal(18, 2)) as budgeted_cost_usd,
        cast(spend_amount as decimal(18, 2)) as actual_cost_usd,
        is_archived as is_deleted,
        start_date,
        end_date,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from campaigns

)

select * from final
