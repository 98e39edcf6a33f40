-- One row per HubSpot marketing campaign in the shape of a CRM campaign
-- (int_crm_campaigns_unioned): budget and spend as the budgeted and actual cost. HubSpot has
-- no campaign type (null). The cost columns hold the corporate currency (setting
-- `corporate_currency`, as Salesforce's Campaign costs): a campaign in another currency has
-- null costs, counted by the warning test on `currency` (is_cost_in_corporate_currency).
{%- set corporate_currency = setting('corporate_currency') %}
with

campaigns as (

    select
        campaign_id,
        campaign_name,
        campaign_status,
        currency,
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
        case
            when coalesce(currency, '{{ corporate_currency }}') = '{{ corporate_currency }}'
                then cast(budget_amount as decimal(18, 2))
        end as budgeted_cost_usd,
        case
            when coalesce(currency, '{{ corporate_currency }}') = '{{ corporate_currency }}'
                then cast(spend_amount as decimal(18, 2))
        end as actual_cost_usd,
        is_archived as is_deleted,
        start_date,
        end_date,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at,
        currency,
        coalesce(currency, '{{ corporate_currency }}') = '{{ corporate_currency }}'
        or (budget_amount is null and spend_amount is null) as is_cost_in_corporate_currency
    from campaigns

)

select * from final
