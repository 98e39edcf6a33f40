-- One row per lead (latest version): when it first reached each funnel stage, its segment and
-- channel, and whether it is excluded (deleted, or a test / internal address).
-- A lead that skips a stage reaches the skipped stages at the later time; a lead that falls
-- back keeps the first time it reached a stage.
-- Incremental by lead (macros/funnel/affected_leads.sql): a run recomputes the leads whose
-- `_inputs_signature` (their CRM row and the signature of their int_lead_status_changes rows)
-- is not the stored one, and deletes the leads gone from the CRM: the first pre-hook finds
-- both in one pass and keeps them for this SQL, the second deletes the gone leads' rows.
{{ config(**affected_leads_config([
    "{{ revops.leads_staged_keep_affected() }}",
    "{{ revops.delete_kept_gone_keys('leads', 'lead_id') }}",
])) }}

with

{%- if is_incremental() %}

affected_leads as (

    -- found by the pre-hook, before it deleted their rows
    select affected.lead_id
    from {{ kept_affected_keys_relation('leads', leads_staged_affected_leads()) }} as affected

),
{%- endif %}

leads as (

    select
        lead_id,
        crm_source,
        owner_id,
        owner_type,
        converted_opportunity_id,
        email,
        email_domain,
        company,
        lead_source,
        lead_status,
        country,
        number_of_employees,
        is_deleted,
        created_at,
        _loaded_at
    from {{ ref('int_crm_leads_unioned') }}
    where {{ among_affected_leads('lead_id') }}

),

status_changes as (

    select
        lead_id,
        funnel_stage_rank,
        is_initial_status,
        entered_at,
        _rows_signature
    from {{ ref('int_lead_status_changes') }}
    where {{ among_affected_leads('lead_id') }}

),

status_signatures as (

    select
        lead_id,
        _rows_signature
    from status_changes
    where is_initial_status

),

segment_bands as (

    select
        bands.segment,
        bands.min_employees,
        bands.max_employees
    from {{ org_mapping('segment_bands') }} as bands

),

channels as (

    select
        source_map.lead_source,
        source_map.channel
    from {{ org_mapping('lead_source_channels') }} as source_map

),

excluded_domains as (

    select exclusions.email_domain from {{ org_mapping('excluded_email_domains') }} as exclusions

),

stage_times as (

    select
        lead_id,
        min(case when funnel_stage_rank >= 1 then entered_at end) as mql_at,
        min(case when funnel_stage_rank >= 2 then entered_at end) as sql_at,
        min(case when funnel_stage_rank >= 3 then entered_at end) as converted_at
    from status_changes
    group by lead_id

),

final as (

    select
        leads.lead_id,
        leads.owner_id,
        leads.owner_type,
        leads.converted_opportunity_id,
        leads.email,
        leads.email_domain,
        leads.company,
        leads.lead_source,
        leads.lead_status,
        leads.country,
        leads.number_of_employees,
        leads.is_deleted,
        leads.created_at,
        stage_times.mql_at,
        stage_times.sql_at,
        stage_times.converted_at,
        coalesce(channels.channel, 'other') as channel,
        coalesce(segment_bands.segment, 'Unknown') as segment,
        excluded_domains.email_domain is not null as is_excluded_address,
        not leads.is_deleted and excluded_domains.email_domain is null as is_reportable,
        -- bookkeeping of the incremental runs
        {{ leads_staged_signature('leads', 'status_signatures') }} as _inputs_signature,
        leads._loaded_at
    from leads
    left join stage_times
        on leads.lead_id = stage_times.lead_id
    left join status_signatures
        on leads.lead_id = status_signatures.lead_id
    left join segment_bands
        on
            leads.number_of_employees >= segment_bands.min_employees
            and (
                leads.number_of_employees <= segment_bands.max_employees
                or segment_bands.max_employees is null
            )
    left join channels
        on leads.lead_source = channels.lead_source
    left join excluded_domains
        on leads.email_domain = excluded_domains.email_domain

)

select * from final
