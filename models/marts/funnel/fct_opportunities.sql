-- One row per opportunity (deleted ones excluded): deal category and type, stage and its
-- order, amounts in the original and the reporting currency, dates and the sales cycle.
with

opportunities as (

    select * from {{ ref('int_opportunities_enriched') }}

),

final as (

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

)

select * from final
