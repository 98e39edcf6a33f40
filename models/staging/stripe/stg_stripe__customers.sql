-- One row per Stripe customer: the latest delivered version, deletes flagged.
with

source as (

    select
        id,
        name,
        email,
        currency,
        address,
        metadata,
        livemode,
        deleted,
        created,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('stripe', 'customers') }}

),

renamed as (

    select
        id as customer_id,
        -- The Salesforce Account id, where billing recorded it.
        {{ json_extract_text('metadata', '$.crm_account_id') }} as crm_account_id,
        name as customer_name,
        {{ normalize_email('email') }} as email,
        {{ email_domain('email') }} as email_domain,
        upper(trim({{ json_extract_text('address', '$.country') }})) as country,
        upper(trim(currency)) as currency,
        {{ try_cast('lower(trim(livemode))', 'boolean') }} as is_livemode,
        {{ stripe_deleted_flag('deleted') }} as is_deleted,
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
        {{ latest_version_rank('customer_id') }} as version_rank
    from renamed

),

final as (

    select
        customer_id,
        crm_account_id,
        customer_name,
        email,
        email_domain,
        country,
        currency,
        is_livemode,
        is_deleted,
        created_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
