-- One row per lead (deleted, test and internal leads excluded): when it was created and first
-- reached MQL and SQL, the opportunity it converted into, and how that opportunity closed.
-- Segment of record: the lead's own (head count) before conversion, its account's from
-- conversion on (`segment_of_record`, what the opportunity and close events count under).
with

leads as (

    select * from {{ ref('int_leads_staged') }}
    where is_reportable

),

opportunities as (

    select
        opportunity_id,
        segment,
        created_at,
        close_date,
        is_closed,
        is_won,
        amount_reporting
    from {{ ref('int_opportunities_enriched') }}

),

final as (

    select
        leads.lead_id,
        leads.owner_id,
        leads.owner_type,
        opportunities.opportunity_id,
        leads.lead_source,
        leads.channel,
        leads.segment,
        opportunities.segment as account_segment,
        coalesce(opportunities.segment, leads.segment) as segment_of_record,
        leads.lead_status,
        leads.created_at,
        leads.mql_at,
        leads.sql_at,
        opportunities.created_at as opportunity_created_at,
        case when opportunities.is_won then opportunities.amount_reporting end as won_amount,
        coalesce(opportunities.is_won, false) as is_won,
        coalesce(opportunities.is_closed, false) as is_closed,
        case
            when opportunities.is_closed then cast(opportunities.close_date as timestamp)
        end as closed_at
    from leads
    left join opportunities
        on leads.converted_opportunity_id = opportunities.opportunity_id

)

select * from final
