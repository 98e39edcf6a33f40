{#-
    Funnel and opportunity marts keyed on what changed (docs/SERVING.md, "Daily increments"):
    `fct_lead_funnel` and `fct_funnel_stage_events` by lead, `fct_opportunity_stage_history` by
    opportunity. A rebuild recomputes every key; an incremental run recomputes only the
    affected keys and gives the same rows:

    1. each key's rows keep `_inputs_signature`, a signature of everything they were built from
       (on one row per key: the funnel row, the stage-event row of the `lead` stage, the first
       stage of an opportunity). A run's first pre-hook compares, in one full join by key, the
       signature of every key now with the stored ones, and keeps the affected keys in a
       temporary table: new or changed, and the keys that have no signature now (a lead
       deleted, merged away or excluded, an opportunity deleted);
    2. the second pre-hook deletes the rows of the gone keys, and the model recomputes the kept
       keys (the gone ones give no row); dbt replaces every stored row of the others
       (`delete+insert`).

    Signatures compare inputs, not load times, so every cause of a change is caught: a late or
    backdated CRM edit, a late conversion, an opportunity delivered after its lead, a moved
    close date, a re-opened deal, a changed stage order (the OpportunityStage export, or a new
    fallback stage placed by probability), a HubSpot history rewritten by its mapping. None of
    these models depends on the current day. A change of a model's SQL, macros, seeds, mapping
    overrides or settings rebuilds it (revops/incremental.py). The `_` columns are bookkeeping:
    the publish step leaves them out. Spark (no delete without Delta) builds them as tables.
-#}

{#- The config of a mart recomputed by key: `{{ config(**affected_marts_config(key, hooks)) }}`,
    `hooks` the SQL of its pre-hook (run only on an incremental run). -#}
{% macro affected_marts_config(unique_key, pre_hook) %}
    {{ return({
        'materialized': latest_version_materialization(),
        'incremental_strategy': 'delete+insert',
        'unique_key': unique_key,
        'on_schema_change': 'fail',
        'pre_hook': pre_hook,
    }) }}
{% endmacro %}


{#- A signature of one row's `columns` as a bigint, the type the marts' contracts give their
    `_inputs_signature` on every engine (DuckDB's 64-bit hash is unsigned: its top 63 bits;
    comparing bigints is several times cheaper than comparing the hash as text). -#}
{% macro mart_row_signature(columns) -%}
    {{ return(adapter.dispatch('mart_row_signature', 'revops')(columns)) }}
{%- endmacro %}

{% macro default__mart_row_signature(columns) -%}
    cast(hash({{ columns | join(', ') }}) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro duckdb__mart_row_signature(columns) -%}
    cast(hash({{ columns | join(', ') }}) >> 1 as bigint)
{%- endmacro %}


{#- fct_lead_funnel: the signature of what a lead's funnel row is built from: its row in
    int_leads_staged (whose `_inputs_signature` decides every column of it) and the columns
    read of the opportunity it converted into (`opportunities`, int_opportunities_enriched;
    null when there is none). The amount counts only when won and the close date only when
    closed: an open deal's amount in the reporting currency moves with each day's FX rates
    without changing the lead's row. -#}
{% macro lead_funnel_signature(leads, opportunities) -%}
    {{ revops.mart_row_signature([
        leads ~ '._inputs_signature',
        opportunities ~ '.opportunity_id',
        opportunities ~ '.segment',
        opportunities ~ '.created_at',
        opportunities ~ '.is_closed',
        opportunities ~ '.is_won',
        'case when ' ~ opportunities ~ '.is_won then ' ~ opportunities ~ '.amount_reporting end',
        'case when ' ~ opportunities ~ '.is_closed then ' ~ opportunities ~ '.close_date end',
    ]) }}
{%- endmacro %}


{#- fct_lead_funnel: every reportable lead and its signature now. -#}
{% macro lead_funnel_signatures() -%}
    select
        leads.lead_id,
        {{ revops.lead_funnel_signature('leads', 'opportunities') }} as inputs_signature
    from {{ ref('int_leads_staged') }} as leads
    left join {{ ref('int_opportunities_enriched') }} as opportunities
        on leads.converted_opportunity_id = opportunities.opportunity_id
    where leads.is_reportable
{%- endmacro %}


{#- A mart's affected keys in one pass (a full join by key of the signatures now with the
    stored ones): the keys whose signature is not the stored one (new or changed) and the keys
    stored that have no signature now (gone). `signatures` selects `key` and
    `inputs_signature`, one row per key now; the stored signature is `stored_signature` on the
    one row per key that `stored_condition` keeps. Each key comes with its signature now (null
    when gone). The first pre-hook keeps them (keep_affected_keys), the second deletes the rows
    of the gone ones (delete_kept_gone_keys), and the model recomputes the kept keys: dbt
    replaces the rows of the others (`delete+insert`), the gone ones give no row. One pass
    replaces the two the pre-hook (gone keys) and the model (changed keys) each made over every
    key's signature and the stored ones. -#}
{% macro mart_keys_whose_signature_moved(
    signatures, key, stored_condition='true', stored_signature='_inputs_signature'
) -%}
    select
        coalesce(current_keys.{{ key }}, stored_keys.{{ key }}) as {{ key }},
        current_keys.inputs_signature
    from ({{ signatures }}) as current_keys
    full outer join (
        select
            stored.{{ key }},
            stored.{{ stored_signature }} as _inputs_signature
        from {{ this }} as stored
        where {{ stored_condition }}
    ) as stored_keys
        on current_keys.{{ key }} = stored_keys.{{ key }}
    where
        stored_keys.{{ key }} is null
        or current_keys.{{ key }} is null
        or current_keys.inputs_signature is distinct from stored_keys._inputs_signature
{%- endmacro %}


{#- fct_lead_funnel, on an incremental run: the leads whose signature is not the stored one
    (new, or their staged row or their opportunity's changed), and the leads stored that are no
    longer reportable leads (deleted, merged away, excluded, gone from the CRM). -#}
{% macro lead_funnel_affected_leads() -%}
    {{ revops.mart_keys_whose_signature_moved(revops.lead_funnel_signatures(), 'lead_id') }}
{%- endmacro %}


{#- fct_funnel_stage_events, on an incremental run: the leads whose funnel row is not the one
    their events were built from (a funnel row is decided by its `_inputs_signature`, which
    each lead's `lead` event keeps), and the leads gone from fct_lead_funnel. -#}
{% macro funnel_stage_events_signatures() -%}
    select
        lead_id,
        _inputs_signature as inputs_signature
    from {{ ref('fct_lead_funnel') }}
{%- endmacro %}

{% macro funnel_stage_events_affected_leads() -%}
    {{ revops.mart_keys_whose_signature_moved(
        revops.funnel_stage_events_signatures(), 'lead_id', "stored.funnel_stage = 'lead'",
    ) }}
{%- endmacro %}


{#- fct_opportunity_stage_history: per opportunity of fct_opportunities with history, the
    signature of its history rows (the columns read) and of the order and closed flag of each
    stage they name (int_opportunity_stages_resolved). The previous stage of a stay is one of
    these stages, so a changed stage order reaches every opportunity whose rows it changes. -#}
{% macro opportunity_stage_history_signatures() -%}
    select
        history.opportunity_id,
        {{ revops.row_set_signature([
            'history.opportunity_history_id',
            'history.stage_name',
            'history.changed_at',
            'stages.stage_order',
            'stages.is_closed',
        ]) }} as inputs_signature
    from {{ ref('int_crm_opportunity_history_unioned') }} as history
    inner join {{ ref('fct_opportunities') }} as opportunities
        on history.opportunity_id = opportunities.opportunity_id
    left join {{ ref('int_opportunity_stages_resolved') }} as stages
        on history.stage_name = stages.stage_name
    group by history.opportunity_id
{%- endmacro %}


{#- fct_opportunity_stage_history, on an incremental run: the opportunities whose signature now
    is not the stored one (kept on the first stay, `stage_sequence` 1), and those that have no
    signature now (deleted, gone from fct_opportunities, or their history gone), each with its
    signature now. -#}
{% macro opportunity_stage_history_affected_opportunities() -%}
    {{ revops.mart_keys_whose_signature_moved(
        revops.opportunity_stage_history_signatures(), 'opportunity_id',
        'stored.stage_sequence = 1',
    ) }}
{%- endmacro %}


{#- The pre-hook that deletes the rows of the kept keys that are gone (kept with a null
    signature; the rows of the others are replaced by dbt's `delete+insert`). With none gone,
    the delete reads nothing of the table (an empty semi-join). -#}
{% macro delete_kept_gone_keys(name, column) -%}
    {{ revops.delete_rows_of_keys(
        column,
        'select gone.' ~ column ~ ' from ' ~ revops.kept_affected_keys(name) ~ ' as gone'
        ~ ' where gone.inputs_signature is null',
    ) }}
{%- endmacro %}


{#- The pre-hooks of the marts recomputed by key: find the affected keys once, keep them for the
    model's SQL (keep_affected_keys, macros/billing/affected_keys.sql); the next deletes the
    rows of the gone keys; the model recomputes the kept keys. -#}
{% macro lead_funnel_keep_affected() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('leads', revops.lead_funnel_affected_leads()) }}
    {%- endif -%}
{%- endmacro %}

{% macro funnel_stage_events_keep_affected() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('leads', revops.funnel_stage_events_affected_leads()) }}
    {%- endif -%}
{%- endmacro %}

{% macro opportunity_stage_history_keep_affected() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys(
        'opportunities', revops.opportunity_stage_history_affected_opportunities(),
    ) }}
    {%- endif -%}
{%- endmacro %}
