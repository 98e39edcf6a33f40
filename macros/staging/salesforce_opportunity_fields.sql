{#-
    The state fields of a Salesforce Opportunity row, renamed and cast, shared by the latest
    version (stg_salesforce__opportunities) and every delivered version
    (stg_salesforce__opportunity_versions), so the two cannot parse a field differently.
    Salesforce leaves CurrencyIsoCode empty for the org's corporate currency; staging keeps it
    null (downstream decides what the corporate currency is).
-#}
{% macro salesforce_opportunity_state_fields() -%}
        upper(trim(CurrencyIsoCode)) as currency,
        {{ revops.try_cast('Amount', 'decimal(18, 2)') }} as amount,
        {{ revops.try_cast('Probability', 'decimal(5, 2)') }} as probability,
        {{ revops.try_cast('lower(trim(IsClosed))', 'boolean') }} as is_closed,
        {{ revops.try_cast('lower(trim(IsWon))', 'boolean') }} as is_won,
        {{ revops.try_cast('lower(trim(IsDeleted))', 'boolean') }} as is_deleted,
        {{ revops.try_cast('CloseDate', 'date') }} as close_date,
        {{ revops.parse_utc_timestamp('CreatedDate') }} as created_at,
        {{ revops.parse_utc_timestamp('LastModifiedDate') }} as last_modified_at,
{%- endmacro %}
