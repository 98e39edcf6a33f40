{#-
    int_opportunities_enriched and fct_opportunities, incremental by opportunity (docs/SERVING.md,
    "Daily increments"): a run computes every opportunity's row (cheap: a projection and a few
    lookups) and writes only the rows whose signature is not a stored one (`delete+insert` on
    `opportunity_id`); the pre-hook deletes the opportunities that have no row now. Each row
    keeps `_inputs_signature`, the signature of its own columns, so any changed value is
    caught, whatever caused it: a CRM edit, a new FX rate (open deals convert at the latest
    one), a later CRM delivery (`is_slipped`), a segment band crossed, a stage re-mapped. The
    rows are those of a rebuild. Spark (no delete without Delta) builds them as tables.
-#}

{#- The columns of an fct_opportunities row, in the order of its signature. -#}
{% macro opportunity_row_columns() -%}
    {{ return([
        'opportunity_id', 'account_id', 'owner_id', 'owner_type', 'campaign_id',
        'opportunity_name', 'opportunity_type', 'deal_category', 'opportunity_type_label',
        'stage_name', 'forecast_category', 'lead_source', 'segment', 'currency',
        'reporting_currency', 'amount', 'amount_reporting', 'probability', 'stage_order',
        'sales_cycle_days', 'is_closed', 'is_won', 'is_slipped', 'created_date', 'close_date',
        'created_at',
    ]) }}
{%- endmacro %}


{#- The columns of an int_opportunities_enriched row, in the order of its signature. -#}
{% macro enriched_opportunity_columns() -%}
    {{ return([
        'opportunity_id', 'account_id', 'owner_id', 'owner_type', 'campaign_id',
        'opportunity_name', 'opportunity_type', 'deal_category', 'opportunity_type_label',
        'stage_name', 'forecast_category', 'lead_source', 'segment', 'currency', 'amount',
        'amount_reporting', 'probability', 'stage_order', 'is_type_mapped', 'is_type_missing',
        'is_stage_mapped', 'is_closed', 'is_won', 'is_slipped', 'close_date', 'created_at',
        'sales_cycle_days',
    ]) }}
{%- endmacro %}


{#- The signature of a row of `relation` (a CTE holding `columns`): any changed value, a null
    either way included, changes it (up to 63-bit hash collisions). -#}
{% macro own_row_signature(relation, columns) -%}
    {%- set qualified = [] -%}
    {%- for column in columns -%}
        {%- do qualified.append(relation ~ '.' ~ column) -%}
    {%- endfor -%}
    {{ revops.mart_row_signature(qualified) }}
{%- endmacro %}


{#- The `where` clause of the final CTE over `relation` (rows with `opportunity_id` and
    `_inputs_signature`) on an incremental run (the model checks `is_incremental()`, which a
    unit test overrides in the model's context only): the rows whose signature is not the one
    stored for their opportunity (new or changed). -#}
{% macro only_changed_opportunities(relation) -%}
    where not exists (
        select 1
        from {{ this }} as stored
        where
            stored.opportunity_id = {{ relation }}.opportunity_id
            and stored._inputs_signature = {{ relation }}._inputs_signature
    )
{%- endmacro %}


{#- The pre-hook: delete the stored opportunities that `kept_query` (the ids of the
    opportunities the model keeps now) does not list: deleted in the CRM. -#}
{% macro opportunities_gone_pre_hook(kept_query) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where opportunity_id in (
        select opportunity_id from {{ this }}
        except
        {{ kept_query }}
    )
    {%- endif -%}
{%- endmacro %}


{#- The last two CTEs of both models, after a CTE `relation` of their rows: `signed` (each row
    with `_inputs_signature`, the signature of `columns`) and `final` (on an incremental run,
    only the rows whose signature changed). `incremental` is the model's own `is_incremental()`
    (a unit test overrides it in the model's context, not in a macro's). -#}
{% macro signed_changed_opportunities(relation, columns, incremental) -%}
signed as (

    select
        {{ relation }}.*,
        {{ revops.own_row_signature(relation, columns) }} as _inputs_signature
    from {{ relation }}

),

final as (

    select signed.*
    from signed
    {%- if incremental %}
    {{ revops.only_changed_opportunities('signed') }}
    {%- endif %}

)
{%- endmacro %}
