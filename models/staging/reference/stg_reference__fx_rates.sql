-- One row per currency pair per day: the rate of the latest delivery.
with

source as (

    select
        rate_date,
        base_currency,
        quote_currency,
        rate,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('reference', 'fx_rates') }}

),

renamed as (

    select
        upper(trim(base_currency)) as base_currency,
        upper(trim(quote_currency)) as quote_currency,
        {{ try_cast('rate', 'decimal(18, 6)') }} as rate,
        {{ try_cast('rate_date', 'date') }} as rate_date,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank(['rate_date', 'base_currency', 'quote_currency']) }} as delivery_rank
    from renamed

),

final as (

    select
        {{ surrogate_key(["rate_date", "base_currency", "quote_currency"]) }} as fx_rate_id,
        base_currency,
        quote_currency,
        rate,
        rate_date,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
