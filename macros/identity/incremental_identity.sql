{#-
    Identity resolution keyed on what changed (docs/SERVING.md, "Daily increments"). The
    resolved people (by email) and the touches tied to leads (by the touch's email) are
    incremental on DuckDB; a run recomputes only the affected emails, with the rows a rebuild
    gives. Two inputs decide an email's rows:

    * its touches: append-only (stg_marketing_automation__activities never updates or removes
      a touch; a removal of raw rows rebuilds every incremental model, revops/incremental.py),
      so the touches loaded after the newest `_loaded_at` stored are the only new ones;
    * its CRM rows (leads, contacts): small, and any of them may change. Each stored row keeps
      a signature of the CRM rows its email's rows were built from (`row_set_signature`,
      macros/billing/affected_keys.sql); an email whose signature now differs, or that lost all
      of its CRM rows, is affected, whatever the cause (a new lead, a changed or removed email,
      the old email included, a delete, a merge, a conversion, a new created date).

    Mappings and settings (excluded_email_domains, utm_medium_channels) are not compared here:
    a change of them rebuilds every incremental model (revops/incremental.py). Spark builds
    both models as tables (`latest_version_materialization`).
-#}


{#- int_people_resolved: the config (delete+insert by email: the model reads the stored touch
    counts of the emails it recomputes, so they are replaced after it ran, not deleted before). -#}
{% macro people_resolved_config() %}
    {{ return({
        'materialized': latest_version_materialization(),
        'incremental_strategy': 'delete+insert',
        'unique_key': 'email',
        'on_schema_change': 'fail',
        'pre_hook': [
            "{{ revops.people_resolved_keep_affected() }}",
            "{{ revops.people_resolved_pre_hook() }}",
        ],
    }) }}
{% endmacro %}


{#- int_people_resolved: the CRM rows that identify a person (not deleted, with an email). -#}
{% macro people_resolved_crm_rows() -%}
    select
        'lead' as record_type,
        lead_id as record_id,
        converted_account_id as account_id,
        email,
        email_domain,
        created_at
    from {{ ref('int_crm_leads_unioned') }}
    where not is_deleted and email is not null
    union all
    select
        'contact' as record_type,
        contact_id as record_id,
        account_id,
        email,
        email_domain,
        created_at
    from {{ ref('int_crm_contacts_unioned') }}
    where not is_deleted and email is not null
{%- endmacro %}


{#- int_people_resolved: per email with CRM rows, a signature of every CRM row of it (`rows`:
    a relation or subquery with the columns of people_resolved_crm_rows). -#}
{% macro people_resolved_crm_signatures(rows) -%}
    select
        email,
        {{ revops.row_set_signature([
            'record_type', 'record_id', 'account_id', 'email_domain', 'created_at',
        ]) }} as inputs_signature
    from {{ rows }}
    group by email
{%- endmacro %}


{#- int_people_resolved, on an incremental run: the emails whose CRM rows changed, in one
    comparison by email of the signatures now with the stored ones (one row per email): new
    (no stored signature), gone (no CRM row now: null signature) or changed. -#}
{% macro people_resolved_crm_affected_emails() -%}
    select
        coalesce(current_signatures.email, signed.email) as email,
        current_signatures.inputs_signature
    from (
        {{ revops.people_resolved_crm_signatures(
            '(' ~ revops.people_resolved_crm_rows() ~ ') as signed_rows'
        ) }}
    ) as current_signatures
    full outer join (
        select
            stored.email,
            stored._inputs_signature
        from {{ this }} as stored
        where stored._inputs_signature is not null
    ) as signed
        on current_signatures.email = signed.email
    where
        signed.email is null
        or current_signatures.email is null
        or current_signatures.inputs_signature <> signed._inputs_signature
{%- endmacro %}


{#- int_people_resolved's pre-hooks: find the emails whose CRM rows changed once and keep them
    for the model's SQL (keep_affected_keys, macros/billing/affected_keys.sql); then delete the
    people that no longer exist (no touch, and no CRM row now: kept with a null signature).
    Every other stored email keeps its row until the model replaces it (the model reads the
    stored touch counts of the emails it recomputes). -#}
{% macro people_resolved_keep_affected() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('emails', revops.people_resolved_crm_affected_emails()) }}
    {%- endif -%}
{%- endmacro %}

{% macro people_resolved_pre_hook() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where
        touch_count = 0
        and email in (
            select affected.email
            from {{ revops.kept_affected_keys('emails') }} as affected
            where affected.inputs_signature is null
        )
    {%- endif -%}
{%- endmacro %}


{#- int_touches_resolved: the reportable leads a touch is tied to, by email. -#}
{% macro touches_resolved_leads() -%}
    select
        lead_id,
        email
    from {{ ref('int_leads_staged') }}
    where is_reportable and email is not null
{%- endmacro %}


{#- int_touches_resolved: per email with a reportable lead, a signature of its set of leads. -#}
{% macro touches_resolved_lead_signatures() -%}
    select
        email,
        {{ revops.row_set_signature(['lead_id']) }} as leads_signature
    from ({{ revops.touches_resolved_leads() }}) as leads
    group by email
{%- endmacro %}


{#- int_touches_resolved: the stored rows that carry their email's lead-set signature, the
    anchors: the rows of the email's first touch (int_people_resolved.first_touched_at), about
    one per email, so that comparing signatures reads a small part of the table. -#}
{% macro touches_resolved_anchors() -%}
    select
        email,
        touched_at,
        _leads_signature
    from {{ this }}
    where _leads_signature is not null
{%- endmacro %}


{#- int_touches_resolved, on an incremental run: the emails to tie again, every touch of them:
    * their set of reportable leads changed (a lead added or removed, an email changed,
      `is_reportable` flipped), among the emails with touches (int_people_resolved counts them);
    * they are stored but have no reportable lead any more;
    * a touch loaded after the watermark happened before their anchors (a late touch that
      becomes the first one): the anchors move, as in a rebuild.
    The lead sets and the anchors are each read once (CTEs used several times are kept by
    DuckDB), and only the anchors of the emails with a new touch are grouped. -#}
{% macro touches_resolved_affected_emails() -%}
    with

    lead_sets as (
        {{ revops.touches_resolved_lead_signatures() }}
    ),

    anchors as (
        {{ revops.touches_resolved_anchors() }}
    ),

    new_touches as (
        select
            email,
            activity_at
        from {{ ref('stg_marketing_automation__activities') }}
        where
            _loaded_at > (
                select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp))
                from {{ this }}
            )
            and activity_at is not null
    )

    select email from (
        select lead_sets.email, lead_sets.leads_signature
        from lead_sets
        inner join {{ ref('int_people_resolved') }} as people
            on lead_sets.email = people.email
        where people.touch_count > 0
        except
        select email, _leads_signature from anchors
    ) as changed
    union
    select email from (
        select email from anchors
        except
        select email from lead_sets
    ) as gone
    union
    select new_touches.email
    from new_touches
    inner join (
        select
            email,
            min(touched_at) as anchored_at
        from anchors
        where email in (select new_touches.email from new_touches)
        group by email
    ) as first_anchors
        on new_touches.email = first_anchors.email
    where
        first_anchors.anchored_at is null
        or new_touches.activity_at < first_anchors.anchored_at
{%- endmacro %}


{#- fct_attribution: the config (delete+insert by opportunity: the first pre-hook finds the
    affected opportunities once and keeps them, with their signatures now, for the model's SQL;
    the second deletes the rows of the opportunities no longer credited). -#}
{% macro attribution_config() %}
    {{ return({
        'materialized': latest_version_materialization(),
        'incremental_strategy': 'delete+insert',
        'unique_key': 'opportunity_id',
        'on_schema_change': 'fail',
        'pre_hook': [
            "{{ revops.attribution_keep_affected() }}",
            "{{ revops.delete_kept_gone_keys('opportunities', 'opportunity_id') }}",
        ],
    }) }}
{% endmacro %}


{#- fct_attribution: the opportunities credited (converted from a lead) and what their rows
    are built from besides the touches: the funnel row, the amount, and the lead's email and
    reportability (which decide the lead's touches in int_touches_resolved). -#}
{% macro attribution_opportunities() -%}
    select
        funnel.opportunity_id,
        funnel.lead_id,
        funnel.created_at as lead_created_at,
        funnel.opportunity_created_at,
        funnel.is_won,
        opportunities.amount_reporting,
        leads.email as lead_email,
        leads.is_reportable as is_lead_reportable
    from {{ ref('fct_lead_funnel') }} as funnel
    inner join {{ ref('fct_opportunities') }} as opportunities
        on funnel.opportunity_id = opportunities.opportunity_id
    left join {{ ref('int_leads_staged') }} as leads
        on funnel.lead_id = leads.lead_id
{%- endmacro %}


{#- fct_attribution: per opportunity credited, the signature of what its rows are built from
    besides the touches (`opportunity_inputs`: a relation of attribution_opportunities' rows). -#}
{% macro attribution_signatures(opportunity_inputs) -%}
    select
        opportunity_id,
        {{ revops.row_set_signature([
            'lead_id',
            'lead_created_at',
            'opportunity_created_at',
            'is_won',
            'amount_reporting',
            'lead_email',
            'is_lead_reportable',
        ]) }} as inputs_signature
    from {{ opportunity_inputs }}
    group by opportunity_id
{%- endmacro %}


{#- fct_attribution, on an incremental run, in one pass over the signatures: the opportunities
    whose signature is not the stored one (on the `first_touch` row every opportunity has,
    credited or unattributed: new, changed) or that are no longer credited (gone: null
    signature), and the opportunities whose lead has a touch loaded after the newest
    `_loaded_at` stored (the touches int_touches_resolved held when the rows were built), each
    with its signature now. -#}
{% macro attribution_affected_opportunities() -%}
    with

    opportunity_inputs as (
        {{ revops.attribution_opportunities() }}
    ),

    signatures as (
        {{ revops.attribution_signatures('opportunity_inputs') }}
    ),

    new_touch_leads as (
        select distinct lead_id
        from {{ ref('int_touches_resolved') }}
        where _loaded_at > (
            select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) from {{ this }}
        )
    )

    select
        moved.opportunity_id,
        moved.inputs_signature
    from (
        {{ revops.mart_keys_whose_signature_moved(
            'select * from signatures', 'opportunity_id',
            "stored.attribution_model = 'first_touch'",
        ) }}
    ) as moved
    union
    select
        signatures.opportunity_id,
        signatures.inputs_signature
    from signatures
    where signatures.opportunity_id in (
        select opportunity_inputs.opportunity_id
        from opportunity_inputs
        inner join new_touch_leads
            on opportunity_inputs.lead_id = new_touch_leads.lead_id
    )
{%- endmacro %}

{% macro attribution_keep_affected() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('opportunities', revops.attribution_affected_opportunities()) }}
    {%- endif -%}
{%- endmacro %}


{#- int_touches_resolved's pre-hooks: find the affected emails once, keep them for the model's
    SQL (keep_affected_keys, macros/billing/affected_keys.sql), and delete their rows; the model
    then ties every touch of the kept emails again. -#}
{% macro touches_resolved_keep_affected() -%}
    {%- if is_incremental() -%}
    {{ revops.keep_affected_keys('emails', revops.touches_resolved_affected_emails()) }}
    {%- endif -%}
{%- endmacro %}

{% macro touches_resolved_delete_affected() -%}
    {{ revops.delete_kept_affected_keys('emails', 'email') }}
{%- endmacro %}
