{#-
    Incremental funnel models keyed by lead (docs/SERVING.md, "Daily increments"). A rebuild
    recomputes every lead; an incremental run recomputes only the affected leads and gives the
    same rows:

    1. the model's SQL selects only the affected leads' rows; dbt replaces every stored row of
       those leads with them (`delete+insert` on `lead_id`, several rows per lead allowed);
    2. the pre-hook deletes what no recomputed lead replaces: the rows of leads gone from the
       CRM (a HubSpot contact absorbed by a merge), and every row when something all leads
       depend on changed (then the model recomputes every lead).

    A lead is affected when what its rows were built from changed: its CRM lead row (a
    signature of the columns used), its Status history rows loaded since the model's last run
    (the watermark `_loaded_at`: append-only, read through zone maps, never hashed per lead), or
    its rows in the model upstream (a signature of those rows). A change of the model's SQL,
    macros, seeds, mapping overrides or settings rebuilds it (revops/incremental.py). Spark (no
    delete without Delta) builds these models as tables.
-#}

{#- The config of an incremental funnel model keyed by lead:
    `{{ config(**affected_leads_config(hooks)) }}`, `hooks` the SQL of its pre-hook (run only
    on an incremental run). -#}
{% macro affected_leads_config(pre_hook) %}
    {{ return({
        'materialized': latest_version_materialization(),
        'incremental_strategy': 'delete+insert',
        'unique_key': 'lead_id',
        'on_schema_change': 'fail',
        'pre_hook': pre_hook,
    }) }}
{% endmacro %}


{#- Condition of a model's input CTE, `where {{ among_affected_leads('lead_id') }}`: on an
    incremental run, the rows of the leads in the model's CTE `affected_leads`; on a rebuild,
    `true`. -#}
{% macro among_affected_leads(column) -%}
    {%- if is_incremental() -%}
        {{ column }} in (select affected_leads.lead_id from affected_leads)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- A signature of one row's `columns` (a 64-bit hash; null only if the row is absent). -#}
{% macro funnel_row_signature(columns) -%}
    {{ return(adapter.dispatch('funnel_row_signature', 'revops')(columns)) }}
{%- endmacro %}

{% macro default__funnel_row_signature(columns) -%}
    cast(hash({{ columns | join(', ') }}) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro duckdb__funnel_row_signature(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}


{#- The newest `_loaded_at` of the rows `condition` selects in `relation`, or 1900-01-01. -#}
{% macro funnel_watermark(relation, condition='true') -%}
    (
        select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp))
        from {{ relation }}
        where {{ condition }}
    )
{%- endmacro %}


{#- int_lead_status_changes: the signature of a lead's row (`leads` the alias of
    int_crm_leads_unioned), over the columns the model reads. -#}
{% macro lead_status_changes_lead_signature(leads) -%}
    {{ revops.funnel_row_signature([
        leads ~ '.crm_source',
        leads ~ '.lead_status',
        leads ~ '.created_at',
    ]) }}
{%- endmacro %}


{#- int_lead_status_changes: one signature of the whole lead status export (what maps every
    status to a stage), stored on every row. -#}
{% macro lead_statuses_signature() -%}
    (
        select {{ revops.row_set_signature(['lead_status', 'crm_source', 'is_converted']) }}
        from {{ ref('int_crm_lead_statuses_unioned') }}
    )
{%- endmacro %}


{#- int_lead_status_changes: the stored Status history rows' signature (change rows), and the
    same signature of the history rows now, among those loaded up to the stored watermark. They
    differ when history rows the model has seen were removed or changed, or rows appeared with
    an old load time (HubSpot's history is derived in the mapping, not appended). -#}
{% macro lead_status_history_rewritten() -%}
    (
        select {{ revops.row_set_signature(['lead_id', 'new_value', 'changed_at']) }}
        from {{ ref('int_crm_lead_history_unioned') }}
        where
            field_name = 'Status'
            and _loaded_at <= {{ revops.funnel_watermark(this, 'not is_initial_status') }}
    )
    <> (
        select {{ revops.row_set_signature(['lead_id', 'lead_status', 'entered_at']) }}
        from {{ this }}
        where not is_initial_status
    )
{%- endmacro %}


{#- int_lead_status_changes, on an incremental run: the affected leads. Leads with Status
    history rows loaded since the last run (a backdated change of an old lead included), and,
    in one pass (a full join by lead of the CRM rows now with the stored initial rows), leads
    whose row is new or changed (a status or creation time edited, a lead delivered after its
    history) and leads gone from the CRM (their history, if any remains, still gives their
    changes, as in a rebuild: kept with a null signature, their rows are deleted and
    recomputed). -#}
{% macro lead_status_changes_affected_leads() -%}
    select
        lead_id,
        -- not null: not gone (the signature itself is not needed)
        0 as inputs_signature
    from {{ ref('int_crm_lead_history_unioned') }}
    where
        field_name = 'Status'
        and _loaded_at > {{ revops.funnel_watermark(this, 'not is_initial_status') }}
    union
    select
        moved.lead_id,
        moved.inputs_signature
    from (
        {{ revops.mart_keys_whose_signature_moved(
            'select current_leads.lead_id, '
            ~ revops.lead_status_changes_lead_signature('current_leads')
            ~ ' as inputs_signature from ' ~ ref('int_crm_leads_unioned') ~ ' as current_leads',
            'lead_id', 'stored.is_initial_status', '_lead_signature',
        ) }}
    ) as moved
{%- endmacro %}


{#- int_lead_status_changes' first pre-hook: delete every row when the lead status export
    changed (every row keeps the one `_statuses_signature` it was built with: a change deletes
    every row, so one row tells) or the history the model has seen was rewritten; the model
    then recomputes every lead (nothing stored: every lead is new). -#}
{% macro lead_status_changes_pre_hook() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where
        (select stored._statuses_signature from {{ this }} as stored limit 1)
        <> {{ revops.lead_statuses_signature() }}
        or {{ revops.lead_status_history_rewritten() }}
    {%- endif -%}
{%- endmacro %}


{#- int_lead_status_changes' next pre-hooks: find the affected leads once (after the first
    pre-hook), keep them for the model's SQL, and delete the rows of the gone ones; the model
    recomputes the kept leads (dbt replaces the rows of those it gives rows for). -#}
{% macro lead_status_changes_keep_affected() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('leads', revops.lead_status_changes_affected_leads()) }}
    {%- endif -%}
{%- endmacro %}


{#- int_leads_staged: the signature of what a lead's row is built from: its CRM lead row (the
    columns read, and its source) and its rows in int_lead_status_changes (their signature, on
    the lead's initial row `status_changes`). -#}
{% macro leads_staged_signature(leads, status_changes) -%}
    {{ revops.funnel_row_signature([
        leads ~ '.crm_source',
        leads ~ '.owner_id',
        leads ~ '.owner_type',
        leads ~ '.converted_opportunity_id',
        leads ~ '.email',
        leads ~ '.email_domain',
        leads ~ '.company',
        leads ~ '.lead_source',
        leads ~ '.lead_status',
        leads ~ '.country',
        leads ~ '.number_of_employees',
        leads ~ '.is_deleted',
        leads ~ '.created_at',
        status_changes ~ '._rows_signature',
    ]) }}
{%- endmacro %}


{#- int_leads_staged, on an incremental run, in one pass (a full join by lead of the signatures
    now with the stored ones, macros/funnel/affected_marts.sql): the leads whose signature is
    not the stored one (new, edited, or whose status changes were recomputed with another
    result) and the leads gone from the CRM. -#}
{% macro leads_staged_signatures() -%}
    select
        current_leads.lead_id,
        {{ revops.leads_staged_signature('current_leads', 'status_changes') }} as inputs_signature
    from {{ ref('int_crm_leads_unioned') }} as current_leads
    left join {{ ref('int_lead_status_changes') }} as status_changes
        on current_leads.lead_id = status_changes.lead_id and status_changes.is_initial_status
{%- endmacro %}

{% macro leads_staged_affected_leads() -%}
    {{ revops.mart_keys_whose_signature_moved(revops.leads_staged_signatures(), 'lead_id') }}
{%- endmacro %}


{#- int_leads_staged's pre-hooks: find the affected leads once and keep them for the model's SQL
    (keep_affected_keys, macros/billing/affected_keys.sql), then delete the rows of the leads
    gone from the CRM; the model recomputes the kept leads. -#}
{% macro leads_staged_keep_affected() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('leads', revops.leads_staged_affected_leads()) }}
    {%- endif -%}
{%- endmacro %}
