-- One row per Stripe product: the latest delivered version, deletes flagged.
with

source as (

    select
        id,
        name,
        active,
        deleted,
        created,
        updated,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('stripe', 'products') }}

),

renamed as (

    select
        id as product_id,
        name as product_name,
        {{ try_cast('lower(trim(active))', 'boolean') }} as is_active,
        {{ stripe_deleted_flag('deleted') }} as is_deleted,
        {{ from_unix_seconds('created') }} as created_at,
        {{ from_unix_seconds('updated') }} as updated_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('product_id') }} as version_rank
    from renamed

),

final as (

    select
        product_id,
        product_name,
        is_active,
        is_deleted,
        created_at,
        updated_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
