-- One row per rep per quota period: the quota of the latest delivery.
with

source as (

    select
        owner_id,
        currency,
        quota_amount,
        period_start,
        period_end,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('reference', 'quotas') }}

),

renamed as (

    select
        trim(owner_id) as owner_id,
        upper(trim(currency)) as currency,
        {{ try_cast('quota_amount', 'decimal(18, 2)') }} as quota_amount,
        {{ try_cast('period_start', 'date') }} as period_start_date,
        {{ try_cast('period_end', 'date') }} as period_end_date,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank(['owner_id', 'period_start_date']) }} as delivery_rank
    from renamed

),

final as (

    select
        {{ surrogate_key(["owner_id", "period_start_date"]) }} as quota_id,
        owner_id,
        currency,
        quota_amount,
        period_start_date,
        period_end_date,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
