-- One row per Salesforce account: the latest version of each delivered account, deletes
-- flagged.
--
-- Incremental on DuckDB: the latest version of each key is merged in from the rows loaded
-- since the last run (macros/staging/incremental_staging.sql).
{{ config(**latest_version_config('account_id')) }}

with

source as (

    select
        Id,
        OwnerId,
        Name,
        Website,
        Industry,
        BillingCountry,
        Type,
        CurrencyIsoCode,
        NumberOfEmployees,
        AnnualRevenue,
        IsDeleted,
        CreatedDate,
        LastModifiedDate,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from {{ source('salesforce', 'account') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        Id as account_id,
        OwnerId as owner_id,
        {{ salesforce_owner_type('OwnerId') }} as owner_type,
        Name as account_name,
        Website as website,
        -- The bare domain (no scheme, `www.` or path), which billing customers' email
        -- domains are matched to.
        nullif(
            regexp_replace(
                regexp_replace(lower(trim(Website)), '^(https?://)?(www[.])?', ''),
                '/.*$',
                ''
            ),
            ''
        ) as website_domain,
        Industry as industry,
        BillingCountry as billing_country,
        Type as account_type,
        upper(trim(CurrencyIsoCode)) as currency,
        {{ try_cast('NumberOfEmployees', 'bigint') }} as number_of_employees,
        {{ try_cast('AnnualRevenue', 'decimal(18, 2)') }} as annual_revenue,
        {{ try_cast('lower(trim(IsDeleted))', 'boolean') }} as is_deleted,
        {{ parse_utc_timestamp('CreatedDate') }} as created_at,
        {{ parse_utc_timestamp('LastModifiedDate') }} as last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from source

),

candidates as (

    {{ with_current_versions('renamed', 'account_id') }}

),

ranked as (

    select
        *,
        {{ latest_version_rank('account_id', 'last_modified_at') }} as version_rank
    from candidates

),

final as (

    select
        account_id,
        owner_id,
        owner_type,
        account_name,
        website,
        website_domain,
        industry,
        billing_country,
        account_type,
        currency,
        number_of_employees,
        annual_revenue,
        is_deleted,
        created_at,
        last_modified_at,
        _delivery_date,
        _file_path,
        _row_number,
        _loaded_at
    from ranked
    where version_rank = 1

)

select * from final
