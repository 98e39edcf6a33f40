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
        row_number() over (
            partition by rate_date, base_currency, quote_currency
            order by
                _delivery_date desc,
                _file_path desc,
                _row_number desc,
                _loaded_at desc
        ) as delivery_rank
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
