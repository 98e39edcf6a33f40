-- One row per Stripe refund: the latest delivered version, amount in units.
with

source as (

    select
        id,
        charge,
        status,
        reason,
        currency,
        amount,
        created,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('stripe', 'refunds') }}

),

currency_exponents as (

    -- Reference lookup, not a join of entities: the minor-unit exponent of each currency
    -- (docs/DECISIONLOG.md, "Stripe minor units in staging").
    select
        currency_code,
        exponent
    from {{ ref('currency_exponents') }}

),

renamed as (

    select
        id as refund_id,
        charge as charge_id,
        status as refund_status,
        reason as refund_reason,
        upper(trim(currency)) as currency,
        amount as amount_minor,
        {{ from_unix_seconds('created') }} as created_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('refund_id') }} as version_rank
    from renamed

),

latest as (

    select * from ranked
    where version_rank = 1

),

with_exponent as (

    select
        latest.*,
        currency_exponents.exponent as currency_exponent
    from latest
    left join currency_exponents
        on latest.currency = currency_exponents.currency_code

),

final as (

    select
        refund_id,
        charge_id,
        refund_status,
        refund_reason,
        currency,
        {{ minor_units_to_decimal('amount_minor', 'currency_exponent') }} as amount,
        created_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from with_exponent

)

select * from final
