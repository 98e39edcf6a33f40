-- One row per lead (deleted, test and internal leads excluded): when it was created and first
-- reached MQL and SQL, the opportunity it converted into, and how that opportunity closed.
-- Segment of record: the lead's own (head count) before conversion, its account's from
-- conversion on (`segment_of_record`, what the opportunity and close events count under).
-- Incremental by lead (macros/funnel/affected_marts.sql): `_inputs_signature` signs what a
-- lead's row is built from, its int_leads_staged row (by that row's own `_inputs_signature`)
-- and the columns read of its converted opportunity in int_opportunities_enriched (amount
-- only when won, close date only when closed). A run recomputes the reportable leads whose
-- signature is not the stored one (new, edited, re-staged, converted late, their opportunity
-- changed or delivered after them) and the leads no longer reportable, found in one pass by
-- the first pre-hook and kept for this SQL; the second deletes the rows of the gone ones.
-- Nothing here depends on the current day.
{{ config(**affected_marts_config('lead_id', [
    "{{ revops.lead_funnel_keep_affected() }}",
    "{{ revops.delete_kept_gone_keys('leads', 'lead_id') }}",
])) }}

with

{%- if is_incremental() %}

affected_leads as (

    -- found by the pre-hook, before it deleted their rows
    select affected.lead_id
    from {{ kept_affected_keys_relation('leads', lead_funnel_affected_leads()) }} as affected

),
{%- endif %}

leads as (

    select
        lead_id,
        owner_id,
        owner_type,
        converted_opportunity_id,
        lead_source,
        channel,
        segment,
        lead_status,
        created_at,
        mql_at,
        sql_at,
        _inputs_signature
    from {{ ref('int_leads_staged') }}
    where
        is_reportable
        and {{ among_affected_leads('lead_id') }}

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
        end as closed_at,
        -- bookkeeping of the incremental runs
        {{ lead_funnel_signature('leads', 'opportunities') }} as _inputs_signature
    from leads
    left join opportunities
        on leads.converted_opportunity_id = opportunities.opportunity_id

)

select * from final
