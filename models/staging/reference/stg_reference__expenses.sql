-- One row per month, department and expense category: the amount of the latest delivery.
with

source as (

    select
        {{ adapter.quote('month') }} as month_text,
        department,
        category,
        currency,
        amount,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('reference', 'expenses') }}

),

renamed as (

    select
        department,
        category as expense_category,
        upper(trim(currency)) as currency,
        {{ try_cast('amount', 'decimal(18, 2)') }} as amount,
        {{ try_cast('month_text', 'date') }} as month_start_date,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank(
            ['month_start_date', 'department', 'expense_category']
        ) }} as delivery_rank
    from renamed

),

final as (

    select
        {{ surrogate_key(["month_start_date", "department", "expense_category"]) }} as expense_id,
        department,
        expense_category,
        currency,
        amount,
        month_start_date,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
