-- One row per month of billing history: whether each source the cost metrics read was
-- delivered through the month's last day, and whether the month is closed. A delivery dated D
-- holds data through D (the landing folder's date); expenses arrive once per month, after it.
with

months as (

    select
        month_start_date,
        month_end_date,
        is_partial_month
    from {{ ref('int_billing_months') }}

),

platform_deliveries as (

    select
        'google_ads' as ad_platform,
        max(_delivery_date) as delivered_through_date
    from {{ ref('stg_google_ads__campaign_stats') }}
    union all
    select
        'linkedin_ads' as ad_platform,
        max(_delivery_date) as delivered_through_date
    from {{ ref('stg_linkedin_ads__campaign_stats') }}
    union all
    select
        'meta_ads' as ad_platform,
        max(_delivery_date) as delivered_through_date
    from {{ ref('stg_meta_ads__campaign_stats') }}

),

crm_deliveries as (

    select max(_delivery_date) as delivered_through_date
    from (
        select _delivery_date from {{ ref('int_crm_leads_unioned') }}
        union all
        select _delivery_date from {{ ref('int_crm_opportunities_unioned') }}
    ) as crm_rows

),

expense_deliveries as (

    select max(month_start_date) as last_month_start_date
    from {{ ref('stg_reference__expenses') }}

),

platforms_behind as (

    -- A platform that delivered on or after the month's first day but not through its last
    -- day is behind. A platform whose latest delivery is older than the month is taken as no
    -- longer used (documented in METRICS.md: a platform more than a month late looks retired).
    select
        months.month_start_date,
        count(*) as platforms_behind
    from months
    inner join platform_deliveries
        on
            months.month_start_date <= platform_deliveries.delivered_through_date
            and months.month_end_date > platform_deliveries.delivered_through_date
    group by months.month_start_date

),

final as (

    select
        months.month_start_date,
        months.month_end_date,
        months.month_end_date < {{ run_date() }} as is_month_closed,
        coalesce(platforms_behind.platforms_behind, 0) = 0 as is_ad_spend_complete,
        coalesce(
            expense_deliveries.last_month_start_date >= months.month_start_date, false
        ) as is_expenses_complete,
        coalesce(
            crm_deliveries.delivered_through_date >= months.month_end_date, false
        ) as is_crm_complete,
        not months.is_partial_month as is_billing_complete
    from months
    cross join expense_deliveries
    cross join crm_deliveries
    left join platforms_behind
        on months.month_start_date = platforms_behind.month_start_date

)

select * from final
