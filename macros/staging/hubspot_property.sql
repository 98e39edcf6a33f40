{#-
    A HubSpot property of a v3 object's `properties` JSON text, as text: every HubSpot property
    arrives as a string, and an empty (or blank) string means no value, so it is null here.
-#}
{% macro hubspot_property(name, column='properties') -%}
    nullif(trim({{ revops.json_extract_text(column, '$.' ~ name) }}), '')
{%- endmacro %}

{#- A HubSpot boolean (`"true"` / `"false"`, any case) as a boolean; null when empty. -#}
{% macro hubspot_boolean(expression) -%}
    {{ revops.try_cast('lower(trim(' ~ expression ~ '))', 'boolean') }}
{%- endmacro %}

{#- A HubSpot datetime property as a UTC timestamp; null when empty. The v3 API writes
    `2025-03-01T14:02:11.000Z`; a date property may come as a date (`2025-03-01`) or, in some
    exports, as milliseconds since 1970-01-01 UTC (`1740787200000`: digits only, 12 or more;
    the milliseconds are dropped). -#}
{% macro hubspot_timestamp(expression) -%}
    case
        when {{ dbt.length('trim(' ~ expression ~ ')') }} >= 12
            and translate(trim({{ expression }}), '0123456789', '') = ''
            then {{ revops.from_unix_seconds(
                dbt.safe_cast(
                    'substr(trim(' ~ expression ~ '), 1, ' ~ dbt.length('trim(' ~ expression ~ ')') ~ ' - 3)',
                    api.Column.translate_type('bigint')
                )
            ) }}
        else {{ revops.parse_utc_timestamp(expression) }}
    end
{%- endmacro %}

{#- A count delivered as text: digits only (white space around allowed) -> bigint; anything
    else (a range option such as `25-50`, `1,000`, `12.5`) -> null. -#}
{% macro digits_to_bigint(expression) -%}
    case
        when trim({{ expression }}) <> ''
            and translate(trim({{ expression }}), '0123456789', '') = ''
            then {{ revops.try_cast('trim(' ~ expression ~ ')', 'bigint') }}
    end
{%- endmacro %}
