-- One row per opportunity (deleted ones excluded): deal category and type, stage and its
-- order, amounts in the original and the reporting currency, dates and the sales cycle.
-- Incremental by opportunity (macros/forecast/opportunity_rows.sql): each row keeps
-- `_inputs_signature`, a signature of the row itself. A run computes every opportunity's row
-- (a projection of int_opportunities_enriched) and writes only those whose signature is not the
-- stored one (`delete+insert`): a new or edited opportunity, and an open one whose amount in the
-- reporting currency moved with the latest FX rate or that slipped past its close date since
-- the CRM's last delivery. The pre-hook deletes the opportunities gone from
-- int_opportunities_enriched (deleted). The rows are those of a rebuild.
{{ config(**affected_marts_config('opportunity_id', [
    "{{ revops.opportunities_gone_pre_hook(
        'select opportunity_id from ' ~ ref('int_opportunities_enriched')
    ) }}",
])) }}
with

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}

),

projected as (

    select
        opportunity_id,
        account_id,
        owner_id,
        owner_type,
        campaign_id,
        opportunity_name,
        opportunity_type,
        deal_category,
        opportunity_type_label,
        stage_name,
        forecast_category,
        lead_source,
        segment,
        currency,
        '{{ setting("reporting_currency") }}' as reporting_currency,
        amount,
        amount_reporting,
        probability,
        stage_order,
        sales_cycle_days,
        is_closed,
        is_won,
        is_slipped,
        cast(created_at as date) as created_date,
        close_date,
        created_at
    from opportunities

),

{{ revops.signed_changed_opportunities(
    'projected', revops.opportunity_row_columns(), is_incremental()
) }}

select * from final
