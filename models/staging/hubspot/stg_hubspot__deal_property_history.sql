-- One row per change of a tracked HubSpot deal property (`dealstage`, `amount`, `closedate`,
-- `pipeline`, `deal_currency_code`): the deal's `propertiesWithHistory` exploded, one row per
-- value it was set to (a cleared value is a row with a null value).
--
-- Built by the hubspot_property_history macro (macros/staging/hubspot_property_history.sql),
-- shared with the other HubSpot property history: append-only, the first loaded copy of a
-- change kept; `change_sequence` numbers a property's changes oldest first.
{{ config(**append_only_config()) }}

with

source as (

    select
        id,
        propertiesWithHistory,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('hubspot', 'deals') }}
    {{ loaded_since_last_run() }}

),

{{ hubspot_property_history('source', 'deal_id', 'deal_property_change_id') }}

select * from final
