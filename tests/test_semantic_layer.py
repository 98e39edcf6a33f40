"""The semantic layer (models/semantic) end to end on the `s` company (the `s_dirty_warehouse`
session build): `mf query` must give exactly the numbers of sales_ops_metrics and
revops_metrics, by month x segment, in total over segments (the `All` rows) and at quarter
grain (flows summed, stocks taken at the quarter's last month, ratios from summed parts)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.mf_support import MfProject, make_mf_project, mf_query, same

# metric -> (table, column) that holds the same number.
SEGMENT_METRICS = {
    "leads": ("sales_ops_metrics", "leads"),
    "mqls": ("sales_ops_metrics", "mqls"),
    "sqls": ("sales_ops_metrics", "sqls"),
    "opportunities_created": ("sales_ops_metrics", "opportunities_created"),
    "opportunities_won": ("sales_ops_metrics", "opportunities_won"),
    "opportunities_closed": ("sales_ops_metrics", "close_rate_denominator"),
    "won_amount": ("sales_ops_metrics", "won_amount"),
    "new_business_bookings": ("sales_ops_metrics", "new_business_bookings"),
    "won_deals_with_amount": ("sales_ops_metrics", "won_with_amount"),
    "close_rate": ("sales_ops_metrics", "close_rate"),
    "avg_deal_size": ("sales_ops_metrics", "avg_deal_size"),
    "avg_sales_cycle_days": ("sales_ops_metrics", "avg_sales_cycle_days"),
    "new_customers": ("sales_ops_metrics", "new_customers"),
    "customers": ("sales_ops_metrics", "arpa_denominator"),
    "mrr": ("revops_metrics", "mrr"),
    "arr": ("revops_metrics", "arr"),
    "monthly_nrr": ("revops_metrics", "monthly_net_revenue_retention_rate"),
    "monthly_grr": ("revops_metrics", "monthly_gross_revenue_retention_rate"),
    "trailing_12m_nrr": ("revops_metrics", "trailing_12m_net_revenue_retention_rate"),
    "trailing_12m_grr": ("revops_metrics", "trailing_12m_gross_revenue_retention_rate"),
    "logo_churn_rate": ("revops_metrics", "logo_churn_rate"),
    # every other metric of the metric tables (issue 19)
    "opportunities_lost": ("sales_ops_metrics", "opportunities_lost"),
    "win_loss_ratio": ("sales_ops_metrics", "win_loss_ratio"),
    "won_without_amount": ("sales_ops_metrics", "won_without_amount"),
    "won_unconverted": ("sales_ops_metrics", "won_unconverted"),
    "time_to_close_days": ("sales_ops_metrics", "time_to_close_days"),
    "time_to_close_leads": ("sales_ops_metrics", "time_to_close_leads"),
    "avg_time_to_close_days": ("sales_ops_metrics", "avg_time_to_close_days"),
    "cohort_leads": ("sales_ops_metrics", "cohort_leads"),
    "cohort_reached_mql": ("sales_ops_metrics", "cohort_reached_mql"),
    "cohort_reached_sql": ("sales_ops_metrics", "cohort_reached_sql"),
    "cohort_reached_opportunity": ("sales_ops_metrics", "cohort_reached_opportunity"),
    "cohort_reached_won": ("sales_ops_metrics", "cohort_reached_won"),
    "pct_leads_to_mql": ("sales_ops_metrics", "pct_leads_to_mql"),
    "pct_leads_to_sql": ("sales_ops_metrics", "pct_leads_to_sql"),
    "pct_leads_to_opportunity": ("sales_ops_metrics", "pct_leads_to_opportunity"),
    "pct_leads_to_won": ("sales_ops_metrics", "pct_leads_to_won"),
    "paid_leads": ("sales_ops_metrics", "paid_leads"),
    "event_leads": ("sales_ops_metrics", "event_leads"),
    "arpa_mrr": ("sales_ops_metrics", "arpa_numerator"),
    "arpa": ("sales_ops_metrics", "arpa"),
    "renewals": ("revops_metrics", "renewal_numerator"),
    "renewals_due": ("revops_metrics", "renewal_denominator"),
    "renewal_rate": ("revops_metrics", "renewal_rate"),
    "upsell_customers": ("revops_metrics", "upsell_customer_numerator"),
    "upsell_customer_base": ("revops_metrics", "upsell_customer_denominator"),
    "upsell_customer_rate": ("revops_metrics", "upsell_customer_rate"),
    "upsell_mrr": ("revops_metrics", "upsell_mrr_numerator"),
    "upsell_mrr_base": ("revops_metrics", "upsell_mrr_denominator"),
    "upsell_mrr_rate": ("revops_metrics", "upsell_mrr_rate"),
    "gross_revenue_churn_mrr": ("revops_metrics", "gross_revenue_churn_numerator"),
    "gross_revenue_churn_base_mrr": ("revops_metrics", "gross_revenue_churn_denominator"),
    "gross_revenue_churn_rate": ("revops_metrics", "gross_revenue_churn_rate"),
    "fx_mrr": ("revops_metrics", "fx_mrr"),
    "previous_month_mrr": ("revops_metrics", "previous_month_mrr"),
    "previous_year_mrr": ("revops_metrics", "previous_year_mrr"),
    "mrr_growth_mom": ("revops_metrics", "mrr_growth_mom"),
    "mrr_growth_yoy": ("revops_metrics", "mrr_growth_yoy"),
    "recognised_revenue": ("revops_metrics", "recognised_revenue"),
    "previous_month_recognised_revenue": ("revops_metrics", "previous_month_recognised_revenue"),
    "previous_year_recognised_revenue": ("revops_metrics", "previous_year_recognised_revenue"),
    "recognised_revenue_growth_mom": ("revops_metrics", "recognised_revenue_growth_mom"),
    "recognised_revenue_growth_yoy": ("revops_metrics", "recognised_revenue_growth_yoy"),
    "mrr_unconverted_customers": ("revops_metrics", "mrr_unconverted_customers"),
    "revenue_records_unconverted": ("revops_metrics", "revenue_records_unconverted"),
}
# Spend has no segment: these are compared on the `All` rows only.
TOTAL_ONLY_METRICS = {
    "marketing_spend": ("sales_ops_metrics", "ad_spend"),
    "cac": ("sales_ops_metrics", "cac_fully_loaded"),
    "cac_paid": ("sales_ops_metrics", "cac_paid"),
    "cltv": ("sales_ops_metrics", "cltv"),
    "ltv_to_cac": ("sales_ops_metrics", "ltv_to_cac"),
    "paid_lead_cost": ("sales_ops_metrics", "paid_cost_per_lead_numerator"),
    "cost_per_paid_lead": ("sales_ops_metrics", "cost_per_paid_lead"),
    "event_lead_cost": ("sales_ops_metrics", "event_cost_per_lead_numerator"),
    "cost_per_event_lead": ("sales_ops_metrics", "cost_per_event_lead"),
    "blended_lead_cost": ("sales_ops_metrics", "blended_cost_per_lead_numerator"),
    "cost_per_lead_blended": ("sales_ops_metrics", "cost_per_lead_blended"),
    "cac_paid_lagged_cost": ("sales_ops_metrics", "cac_paid_lagged_numerator"),
    "cac_paid_lagged": ("sales_ops_metrics", "cac_paid_lagged"),
    "cac_fully_loaded_lagged_cost": ("sales_ops_metrics", "cac_fully_loaded_lagged_numerator"),
    "cac_fully_loaded_lagged": ("sales_ops_metrics", "cac_fully_loaded_lagged"),
    "cac_payback_months": ("sales_ops_metrics", "cac_payback_months"),
    "ad_spend_unconverted": ("sales_ops_metrics", "ad_spend_unconverted"),
    "expenses_unconverted": ("sales_ops_metrics", "expenses_unconverted"),
    "pipeline_velocity_per_day": ("revops_metrics", "pipeline_velocity_per_day"),
    "roas": ("revops_metrics", "roas"),
    "marketing_return": ("revops_metrics", "marketing_roi_numerator"),
    "marketing_roi": ("revops_metrics", "marketing_roi"),
}
# Derived metrics: MetricFlow computes the formula in its own SQL, so the last bit of a double
# may differ from the table's.
APPROX_METRICS = {
    "mrr_growth_mom", "mrr_growth_yoy", "recognised_revenue_growth_mom",
    "recognised_revenue_growth_yoy",
}  # fmt: skip


@pytest.fixture(scope="module")
def mf_project(s_dirty_warehouse, tmp_path_factory: pytest.TempPathFactory) -> MfProject:
    """An `mf` project on the session's `s` warehouse (tests/mf_support.py)."""
    _, warehouse = s_dirty_warehouse
    return make_mf_project(warehouse, tmp_path_factory.mktemp("mf_project"))


def table_values(warehouse: Path, metrics: dict[str, tuple[str, str]]) -> dict[tuple, dict]:
    """(month, segment) -> {metric: the table's value} over both tables (closed right after:
    `mf` opens the warehouse in another process)."""
    got: dict[tuple, dict] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in {table for table, _ in metrics.values()}:
            names = [name for name, (t, _) in metrics.items() if t == table]
            columns = ", ".join(metrics[name][1] for name in names)
            for month, segment, *values in con.execute(
                f"select month, segment, {columns} from {table}"
            ).fetchall():
                got.setdefault((month, segment), {}).update(zip(names, values, strict=True))
    return got


def close(metric: str, mf_value: str, table_value) -> bool:
    """`same`, or for a derived metric equal to 12 significant digits."""
    if metric not in APPROX_METRICS or table_value is None or mf_value == "":
        return same(mf_value, table_value)
    return math.isclose(float(mf_value), float(table_value), rel_tol=1e-12)


def month_of(cell: str) -> date:
    return date.fromisoformat(cell[:10])


def test_mf_query_by_month_and_segment_equals_the_metric_tables(s_dirty_warehouse, mf_project):
    _, warehouse = s_dirty_warehouse
    rows = mf_query(mf_project, list(SEGMENT_METRICS), ["metric_time__month", "segment"])
    expected = table_values(warehouse, SEGMENT_METRICS)
    got = {(month_of(row["metric_time__month"]), row["segment"]): row for row in rows}
    assert "All" not in {segment for _, segment in got}
    checked = 0
    for key, values in expected.items():
        if key[1] == "All":
            continue
        for metric, value in values.items():
            # revops_metrics rows may lack a sales_ops_metrics month and the other way round;
            # a metric is compared wherever its own table has the row.
            assert key in got, key
            assert close(metric, got[key][metric], value), (key, metric, got[key][metric], value)
            checked += value not in (None, 0)
    assert checked > 1500
    assert {segment for _, segment in got} == {"SMB", "Mid-Market", "Enterprise", "Unknown"}


def test_mf_query_totals_equal_the_all_rows(s_dirty_warehouse, mf_project):
    _, warehouse = s_dirty_warehouse
    metrics = {**SEGMENT_METRICS, **TOTAL_ONLY_METRICS}
    rows = mf_query(mf_project, list(metrics), ["metric_time__month"])
    expected = {
        month: values
        for (month, segment), values in table_values(warehouse, metrics).items()
        if segment == "All"
    }
    got = {month_of(row["metric_time__month"]): row for row in rows}
    assert set(got) == set(expected)
    for month, values in expected.items():
        for metric, value in values.items():
            assert close(metric, got[month][metric], value), (
                month,
                metric,
                got[month][metric],
                value,
            )
    assert sum(1 for values in expected.values() if values["cac"] is not None) > 20


def test_mf_query_by_quarter_sums_flows_and_takes_stocks_at_the_quarter_end(
    s_dirty_warehouse, mf_project
):
    _, warehouse = s_dirty_warehouse
    rows = mf_query(
        mf_project,
        ["leads", "won_amount", "close_rate", "mrr", "customers"],
        ["metric_time__quarter", "segment"],
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected = {
            (quarter, segment): (leads, won_amount, won, closed)
            for quarter, segment, leads, won_amount, won, closed in con.execute(
                "select cast(date_trunc('quarter', month) as date), segment, sum(leads), "
                "sum(won_amount), sum(opportunities_won), sum(close_rate_denominator) "
                "from sales_ops_metrics "
                "where segment <> 'All' group by all"
            ).fetchall()
        }
        stocks = {
            (quarter, segment): (mrr, customers)
            for quarter, segment, mrr, customers in con.execute(
                "select cast(date_trunc('quarter', r.month) as date), r.segment, "
                "arg_max(r.mrr, r.month), arg_max(s.arpa_denominator, r.month) "
                "from revops_metrics as r inner join sales_ops_metrics as s "
                "on r.month = s.month and r.segment = s.segment "
                "where r.segment <> 'All' group by all"
            ).fetchall()
        }
    got = {(month_of(row["metric_time__quarter"]), row["segment"]): row for row in rows}
    for key, (leads, won_amount, won, closed) in expected.items():
        row = got[key]
        assert same(row["leads"], leads), key
        assert same(row["won_amount"], won_amount), key
        assert same(row["close_rate"], won / closed if closed else None), key
        assert same(row["mrr"], stocks[key][0]), key
        assert same(row["customers"], stocks[key][1]), key


def test_mf_forecast_mape_and_bias_equal_forecast_accuracy_by_method(s_dirty_warehouse, mf_project):
    """forecast_mape and forecast_mean_bias per method, period grain, horizon band and segment
    are forecast_accuracy_by_method's mape and mean_bias (the same mean, summed in another
    order: equal to 1e-12), and forecasts_scored its n_forecasts."""
    _, warehouse = s_dirty_warehouse
    dims = [
        "forecast__forecast_method",
        "forecast__forecast_period_grain",
        "forecast__forecast_horizon_band",
        "segment",
    ]
    rows = mf_query(mf_project, ["forecast_mape", "forecast_mean_bias", "forecasts_scored"], dims)
    got = {tuple(str(row[d]) for d in dims): row for row in rows if row[dims[2]] != ""}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected = con.execute(
            "select method, period_grain, cast(horizon_band as varchar), segment, mape, "
            "mean_bias, n_forecasts from forecast_accuracy_by_method"
        ).fetchall()
    assert len(expected) >= 3 * 2 * 3 * 2 and set(got) == {tuple(r[:4]) for r in expected}
    for *key, mape, bias, n in expected:
        row = got[tuple(key)]
        assert int(float(row["forecasts_scored"])) == n, key
        if mape is None:
            assert row["forecast_mape"] == "" and n == 0, key
            continue
        assert float(row["forecast_mape"]) == pytest.approx(mape, rel=1e-12), key
        assert float(row["forecast_mean_bias"]) == pytest.approx(bias, rel=1e-12, abs=1e-15), key
