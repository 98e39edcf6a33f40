-- Fails with one row per month and segment where revops_metrics.mrr differs from mrr_by_month
-- (or a month x segment of mrr_by_month is missing from revops_metrics). Compared with
-- `is distinct from`: a null on either side fails.
select
    mrr_by_month.month,
    mrr_by_month.segment,
    mrr_by_month.mrr as expected_mrr,
    revops_metrics.mrr
from {{ ref('mrr_by_month') }} as mrr_by_month
left join {{ ref('revops_metrics') }} as revops_metrics
    on
        mrr_by_month.month = revops_metrics.month
        and mrr_by_month.segment = revops_metrics.segment
where
    revops_metrics.mrr is distinct from mrr_by_month.mrr
    or mrr_by_month.mrr is null
