{#-
    Fields of a Stripe invoice line that API versions deliver in different places (docs/EXPORTS.md,
    "Stripe API versions"), for stg_stripe__invoice_line_items.
-#}

{#- A field of the line's `parent` (API 2025-03-31 and later), from the details of whichever
    item the line comes from: a subscription item or an invoice item. -#}
{% macro stripe_line_parent_field(field) -%}
    case {{ json_extract_text('parent', '$.type') }}
        when 'subscription_item_details'
            then {{ json_extract_text('parent', '$.subscription_item_details.' ~ field) }}
        when 'invoice_item_details'
            then {{ json_extract_text('parent', '$.invoice_item_details.' ~ field) }}
    end
{%- endmacro %}


{#- An attribute of the line's price object: `price` before API 2025-03-31, the expanded
    `pricing.price_details.price` from then on (null when that is the price id only). -#}
{% macro stripe_line_price_attribute(path) -%}
    coalesce(
        {{ json_extract_text('price', '$.' ~ path) }},
        {{ json_extract_text('pricing', '$.price_details.price.' ~ path) }}
    )
{%- endmacro %}


{#- An attribute of the coupon object of the line's first discount (when expanded): `coupon`
    before API 2025-09-30, `source.coupon` from then on. -#}
{% macro stripe_first_discount_coupon_attribute(path) -%}
    coalesce(
        {{ json_extract_text('discounts', '$[0].coupon.' ~ path) }},
        {{ json_extract_text('discounts', '$[0].source.coupon.' ~ path) }}
    )
{%- endmacro %}
