"""End to end on the `s` company with every --dirty fault (the `s_dirty_warehouse` session
build): sales_ops_metrics and revops_metrics must equal the generator's truth.json per month and
segment (funnel, MRR and its movements, ad spend), their `All` rows must be the sum of their
segment rows, and their parts must reconcile per segment with the marts they come from (the
singular tests in data-tests/ check the `All` rows and MRR; these go per segment)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.truth_support import assert_costs_equal_truth, assert_pipeline_as_of_equals_truth

ROOT = Path(__file__).resolve().parent.parent
METRIC_TABLES = ("sales_ops_metrics", "revops_metrics", "pipeline_velocity_by_month")
# Columns filled on `All` rows only (spend and expenses have no segment).
ALL_ONLY = {
    "sales_ops_metrics": {
        "ad_spend",
        "sales_marketing_expenses",
        "marketing_program_expenses",
        "event_expenses",
        "cac_paid_numerator",
        "cac_paid_denominator",
        "cac_fully_loaded_numerator",
        "cac_fully_loaded_denominator",
        "cac_paid_lagged_numerator",
        "cac_fully_loaded_lagged_numerator",
        "paid_cost_per_lead_numerator",
        "event_cost_per_lead_numerator",
        "blended_cost_per_lead_numerator",
    },
    "revops_metrics": {
        "attributed_won_revenue",
        "marketing_spend",
        "marketing_cost",
        "marketing_roi_numerator",
    },
    "pipeline_velocity_by_month": set(),
}
FUNNEL = (
    "leads",
    "mqls",
    "sqls",
    "opportunities_created",
    "opportunities_won",
    "opportunities_lost",
    "won_amount",
)


def contract_columns(table: str) -> dict[str, str]:
    """column -> data_type from the table's contract in models/marts/metrics."""
    spec = yaml.safe_load((ROOT / "models/marts/metrics/_metrics__models.yml").read_text())
    model = next(m for m in spec["models"] if m["name"] == table)
    return {c["name"]: c["data_type"].replace(" ", "") for c in model["columns"]}


def additive_columns(table: str) -> list[str]:
    """Counts and amounts (bigint, decimal): everything but ratios (double), keys and dates."""
    return [
        name
        for name, data_type in contract_columns(table).items()
        if data_type.startswith(("bigint", "decimal")) and name not in ALL_ONLY[table]
    ]


def by_month_and_segment(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str]
) -> dict[tuple[str, str], dict]:
    rows = con.execute(
        f"select strftime(month, '%Y-%m'), segment, {', '.join(columns)} from {table}"
    ).fetchall()
    return {(row[0], row[1]): dict(zip(columns, row[2:], strict=True)) for row in rows}


@pytest.fixture(scope="module")
def con(s_dirty_warehouse):
    _, warehouse = s_dirty_warehouse
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        yield connection


def test_funnel_counts_and_won_amount_equal_the_truth(s_dirty_warehouse, con):
    """Lead counts against truth `funnel`; the opportunity columns, which are new-business,
    against the new_business rows of truth `deal_categories`."""
    company, _ = s_dirty_warehouse
    got = by_month_and_segment(con, "sales_ops_metrics", list(FUNNEL))
    new_business = {
        (row["month"], row["segment"]): row
        for row in company.truth["deal_categories"]["rows"]
        if row["deal_category"] == "new_business"
    }
    checked = 0
    for row in company.truth["funnel"]:
        key = (row["month"], row["segment"])
        for name in FUNNEL:
            expected = row[name] if name in ("leads", "mqls", "sqls") else new_business[key][name]
            # A segment without any activity has no row: it must be all zeros in the truth.
            value = got[key][name] if key in got else 0
            assert Decimal(value) == Decimal(str(expected)), (key, name, value, expected)
            checked += Decimal(str(expected)) != 0
    assert checked > 800
    assert {m for m, _ in got} == {row["month"] for row in company.truth["funnel"]}


def test_mrr_customers_and_movements_equal_the_truth(s_dirty_warehouse, con):
    company, _ = s_dirty_warehouse
    revops = by_month_and_segment(
        con,
        "revops_metrics",
        [
            "mrr",
            "arr",
            "previous_month_mrr",
            "fx_mrr",
            "logo_churn_numerator",
            "logo_churn_denominator",
            "gross_revenue_churn_numerator",
            "gross_revenue_churn_denominator",
            "upsell_mrr_numerator",
            "upsell_customer_numerator",
            "monthly_net_revenue_retention_numerator",
            "monthly_net_revenue_retention_denominator",
            "monthly_gross_revenue_retention_numerator",
            "monthly_gross_revenue_retention_denominator",
            "trailing_12m_net_revenue_retention_numerator",
            "trailing_12m_net_revenue_retention_denominator",
            "trailing_12m_gross_revenue_retention_numerator",
        ],
    )
    sales_ops = by_month_and_segment(
        con,
        "sales_ops_metrics",
        [
            "arpa_numerator",
            "arpa_denominator",
            "new_customers",
            "trailing_12m_gross_revenue_churn_numerator",
            "trailing_12m_gross_revenue_churn_denominator",
        ],
    )
    # MRR and customers from truth `mrr`, the FX-neutral movements and retention parts from
    # truth `mrr_fx_neutral` (movements in constant currency, fx apart).
    customers = {(row["month"], row["segment"]): row["customers"] for row in company.truth["mrr"]}
    truth = {
        (row["month"], row["segment"]): row
        | {"customers": customers[(row["month"], row["segment"])]}
        for row in company.truth["mrr_fx_neutral"]
    }
    assert set(truth) == set(customers)
    # CLTV's churn input: truth `cltv_and_pipeline.cltv_churn` (trailing-12-month sums).
    cltv_churn = {
        (row["month"], row["segment"]): row
        for row in company.truth["cltv_and_pipeline"]["cltv_churn"]
    }
    assert set(cltv_churn) == set(truth)
    customers_before: dict[str, int] = defaultdict(int)
    checked = 0
    for (month, segment), row in sorted(truth.items()):
        t = {k: Decimal(str(v)) for k, v in row.items() if k not in ("month", "segment")}
        expected_revops = {
            "mrr": t["mrr"],
            "arr": 12 * t["mrr"],
            "previous_month_mrr": t["previous_mrr"],
            "fx_mrr": t["fx"],
            "logo_churn_numerator": t["churn_customers"],
            "logo_churn_denominator": customers_before[segment],
            "gross_revenue_churn_numerator": t["contraction"] + t["churn"],
            "gross_revenue_churn_denominator": t["previous_mrr"],
            "upsell_mrr_numerator": t["expansion"],
            "upsell_customer_numerator": t["expansion_customers"],
            # The cohort with MRR last month keeps last month's MRR, plus expansion, minus
            # contraction and churn (new and reactivated customers are not in it).
            "monthly_net_revenue_retention_numerator": t["previous_mrr"]
            + t["expansion"]
            - t["contraction"]
            - t["churn"],
            "monthly_net_revenue_retention_denominator": t["previous_mrr"],
            "monthly_gross_revenue_retention_numerator": t["previous_mrr"]
            - t["contraction"]
            - t["churn"],
            "monthly_gross_revenue_retention_denominator": t["previous_mrr"],
            "trailing_12m_net_revenue_retention_numerator": t["trailing_12m_net_retained"],
            "trailing_12m_net_revenue_retention_denominator": t["trailing_12m_retention_base"],
            "trailing_12m_gross_revenue_retention_numerator": t["trailing_12m_gross_retained"],
        }
        # The generator's own retention parts agree with the bridge identity above.
        assert (
            t["monthly_net_retained"] == expected_revops["monthly_net_revenue_retention_numerator"]
        )
        assert (
            t["monthly_gross_retained"]
            == expected_revops["monthly_gross_revenue_retention_numerator"]
        )
        expected_sales_ops = {
            "arpa_numerator": t["mrr"],
            "arpa_denominator": t["customers"],
            "new_customers": t["new_customers"],
            "trailing_12m_gross_revenue_churn_numerator": Decimal(
                cltv_churn[(month, segment)]["trailing_12m_gross_revenue_churn"]
            ),
            "trailing_12m_gross_revenue_churn_denominator": Decimal(
                cltv_churn[(month, segment)]["trailing_12m_starting_mrr"]
            ),
        }
        for table, got, expected in (
            ("revops_metrics", revops, expected_revops),
            ("sales_ops_metrics", sales_ops, expected_sales_ops),
        ):
            for name, value in expected.items():
                assert Decimal(got[(month, segment)][name]) == value, (table, month, segment, name)
                checked += value != 0
        customers_before[segment] = int(t["customers"])
    assert checked > 1000
    # Billing customers always have an account segment: nothing is `Unknown`.
    for (month, segment), values in revops.items():
        if segment == "Unknown":
            assert values["mrr"] in (0, None) and not values["logo_churn_denominator"], month


def test_ad_spend_equals_the_truth(s_dirty_warehouse, con):
    company, _ = s_dirty_warehouse
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for row in company.truth["ad_spend"]:
        expected[row["month"]] += Decimal(row["spend"])
    got = {
        month: (ad_spend, marketing_spend)
        for month, ad_spend, marketing_spend in con.execute(
            "select strftime(s.month, '%Y-%m'), s.ad_spend, r.marketing_spend "
            "from sales_ops_metrics as s inner join revops_metrics as r "
            "on s.month = r.month and s.segment = r.segment where s.segment = 'All'"
        ).fetchall()
    }
    for month, spend in got.items():
        assert spend == (expected.get(month, Decimal(0)),) * 2, month
    assert set(expected) <= set(got)
    assert sum(spend for spend, _ in got.values()) == sum(expected.values())


def test_costs_equal_the_truth(s_dirty_warehouse, con):
    """Paid and event leads, expenses as delivered and fully loaded CAC equal truth `costs`;
    a month without its expenses has no fully loaded figure and none on another basis."""
    company, _ = s_dirty_warehouse
    assert assert_costs_equal_truth(con, company.truth) > 50


@pytest.mark.parametrize("table", METRIC_TABLES)
def test_all_rows_are_the_sum_of_the_segments(con, table):
    columns = additive_columns(table)
    assert len(columns) >= (6 if table == "pipeline_velocity_by_month" else 20)
    sums = ", ".join(f"sum({c}) filter (where segment <> 'All')" for c in columns)
    alls = ", ".join(f"max({c}) filter (where segment = 'All')" for c in columns)
    rows = con.execute(
        f"select strftime(month, '%Y-%m'), {sums}, {alls} from {table} group by month"
    ).fetchall()
    for month, *values in rows:
        segments, all_row = values[: len(columns)], values[len(columns) :]
        for column, total, value in zip(columns, segments, all_row, strict=True):
            assert (total or 0) == (value or 0), (table, month, column, total, value)
    # The columns without a segment are null on segment rows.
    if ALL_ONLY[table]:
        only = ", ".join(f"count({c})" for c in sorted(ALL_ONLY[table]))
        counts = con.execute(f"select {only} from {table} where segment <> 'All'").fetchone()
        assert set(counts) == {0}, counts


def test_pipeline_velocity_of_all_is_the_formula_on_the_summed_segment_parts(con):
    """Velocity is not additive, its parts are: the `All` row's velocity equals open x won x
    amount x won / ((won + lost) x won with amount x cycle days) on the segments' summed parts."""
    rows = con.execute(
        """
        select
            month,
            sum(open_qualified_opportunities) filter (where segment <> 'All'),
            sum(trailing_3m_won) filter (where segment <> 'All'),
            sum(trailing_3m_lost) filter (where segment <> 'All'),
            sum(trailing_3m_won_amount) filter (where segment <> 'All'),
            sum(trailing_3m_won_with_amount) filter (where segment <> 'All'),
            sum(trailing_3m_sales_cycle_days) filter (where segment <> 'All'),
            max(pipeline_velocity_per_day) filter (where segment = 'All')
        from pipeline_velocity_by_month
        group by month
        """
    ).fetchall()
    checked = 0
    for month, open_, won, lost, amount, with_amount, days, velocity in rows:
        denominator = (won + lost) * with_amount * days
        if denominator == 0:
            assert velocity is None, month
            continue
        expected = float(open_) * won * float(amount) * won / denominator
        assert velocity == pytest.approx(expected, rel=1e-12), (month, velocity, expected)
        checked += expected > 0
    assert checked > 12


def test_sales_ops_metrics_reconcile_per_segment_with_the_facts(con):
    """data-tests/assert_sales_ops_metrics_reconcile_with_funnel checks the `All` rows for
    leads, MQLs, SQLs and won amount; this checks every segment and the other parts (the
    opportunity parts are new-business)."""
    got = by_month_and_segment(
        con,
        "sales_ops_metrics",
        [
            "leads",
            "mqls",
            "sqls",
            "opportunities_created",
            "opportunities_won",
            "opportunities_lost",
            "won_amount",
            "sales_cycle_days",
            "new_customers",
        ],
    )
    month = "strftime({}, '%Y-%m'), segment"
    queries = {
        "leads": f"select {month.format('created_at')}, count(*) from fct_lead_funnel",
        "mqls": f"select {month.format('mql_at')}, count(mql_at) from fct_lead_funnel",
        "sqls": f"select {month.format('sql_at')}, count(sql_at) from fct_lead_funnel",
        "opportunities_created": f"select {month.format('created_date')}, count(*) "
        "from fct_opportunities where deal_category = 'new_business'",
        "opportunities_won": f"select {month.format('close_date')}, count(*) "
        "from fct_opportunities where deal_category = 'new_business' and is_won",
        "opportunities_lost": f"select {month.format('close_date')}, count(*) "
        "from fct_opportunities where deal_category = 'new_business' and is_closed and not is_won",
        "won_amount": f"select {month.format('close_date')}, sum(amount_reporting) "
        "from fct_opportunities where deal_category = 'new_business' and is_won",
        "sales_cycle_days": f"select {month.format('close_date')}, sum(sales_cycle_days) "
        "from fct_opportunities where deal_category = 'new_business' and is_won",
        "new_customers": f"select {month.format('month')}, count(*) "
        "from fct_mrr where movement = 'new'",
    }
    checked = 0
    for name, sql in queries.items():
        expected = {
            (m, segment): value
            for m, segment, value in con.execute(f"{sql} group by all").fetchall()
            if m is not None
        }
        for key, values in got.items():
            if key[1] == "All":
                continue
            assert values[name] == expected.get(key, 0), (name, key, values[name])
            checked += values[name] != 0
        # No month x segment of the facts is missing from the table.
        assert set(expected) <= set(got), (name, set(expected) - set(got))
    assert checked > 1000


def test_revops_metrics_agree_with_sales_ops_metrics_and_the_marts(con):
    """The columns revops_metrics takes from sales_ops_metrics and mrr_by_month."""
    mismatches = con.execute(
        """
        select r.month, r.segment
        from revops_metrics as r
        left join sales_ops_metrics as s on r.month = s.month and r.segment = s.segment
        left join mrr_by_month as m on r.month = m.month and r.segment = m.segment
        where r.mqls is distinct from coalesce(s.mqls, 0)
            or r.cltv is distinct from s.cltv
            or r.cltv_capped is distinct from s.cltv_capped
            or r.marketing_spend is distinct from s.ad_spend
            or r.arr is distinct from coalesce(m.arr, 0)
            or r.monthly_net_revenue_retention_numerator
                is distinct from m.monthly_net_revenue_retention_numerator
            or r.monthly_gross_revenue_retention_numerator
                is distinct from m.monthly_gross_revenue_retention_numerator
            or r.logo_churn_numerator is distinct from m.logo_churn_numerator
            or r.renewal_numerator is distinct from m.renewal_numerator
        """
    ).fetchall()
    assert mismatches == []
    # Every month x segment of sales_ops_metrics is in revops_metrics.
    missing = con.execute(
        "select month, segment from sales_ops_metrics "
        "except select month, segment from revops_metrics"
    ).fetchall()
    assert missing == []


def test_slipped_open_opportunities_equal_the_truth(s_dirty_warehouse, con):
    """truth `cltv_and_pipeline`: open opportunities whose close date has passed, by segment;
    they stay in the open pipeline and are counted apart there (rep_performance)."""
    company, _ = s_dirty_warehouse
    truth = company.truth["cltv_and_pipeline"]
    got = dict(
        con.execute(
            "select segment, count(*) from fct_opportunities where is_slipped group by segment"
        ).fetchall()
    )
    expected = {s: n for s, n in truth["slipped_by_segment"].items() if n}
    assert got == expected
    assert sum(got.values()) == truth["slipped_open_opportunities"] > 0
    # The newest month's open pipeline counts every slipped deal apart.
    (slipped,) = con.execute(
        "select sum(slipped_opportunities) from rep_performance "
        "where month_start_date = (select max(month_start_date) from rep_performance)"
    ).fetchone()
    assert slipped == truth["slipped_open_opportunities"]


def test_cltv_is_arpa_times_margin_over_the_trailing_churn_with_the_cap_flagged(con):
    """CLTV = ARPA x gross_margin / trailing-12-month gross revenue churn, the lifetime capped
    at cltv_max_months (defaults 0.8 and 60 on the test company) and flagged when it binds."""
    rows = con.execute(
        "select arpa, trailing_12m_gross_revenue_churn_rate, cltv, cltv_capped "
        "from sales_ops_metrics"
    ).fetchall()
    capped = uncapped = 0
    for arpa, churn, cltv, is_capped in rows:
        if arpa is None or churn is None:
            assert cltv is None and (churn is not None or is_capped is None)
            continue
        lifetime = 60.0 if churn * 60 <= 1 else 1 / churn
        assert cltv == pytest.approx(arpa * 0.8 * lifetime, rel=1e-12)
        assert is_capped == (churn * 60 <= 1)
        capped += is_capped
        uncapped += not is_capped
    assert capped > 0 and uncapped > 0


def test_forecast_actuals_equal_the_truth_outcomes(s_dirty_warehouse, con):
    """forecast_accuracy's actual_bookings (and its won deals left out for want of a converted
    amount) per ended month and quarter and segment (and All) equal truth.json
    `forecast_outcomes`; every ended period is backtested by each of the three methods."""
    company, _ = s_dirty_warehouse
    truth = {
        (r["period_grain"], r["period_start"], r["segment"]): r
        for r in company.truth["forecast_outcomes"]["rows"]
    }
    rows = con.execute(
        "select period_grain, strftime(period_start, '%Y-%m-%d'), segment, "
        "any_value(actual_bookings), any_value(actual_unconverted), "
        "count(distinct actual_bookings), count(distinct method) "
        "from forecast_accuracy group by all"
    ).fetchall()
    assert len(rows) > 100
    nonzero = 0
    for grain, start, segment, actual, unconverted, n_actuals, n_methods in rows:
        expected = truth[(grain, start, segment)]
        assert n_actuals == 1 and n_methods == 3, (grain, start, segment)
        assert Decimal(actual) == Decimal(expected["new_business_won_amount"]), (
            grain, start, segment, actual, expected
        )  # fmt: skip
        assert unconverted == expected["won_without_amount"] + expected["won_unconverted"]
        nonzero += actual != 0
    assert nonzero > 50
    # every quarter that had ended by the latest as-of date, from the first forecast on, is there
    first, last = con.execute(
        "select min(as_of_date), max(as_of_date) from int_forecast_periods"
    ).fetchone()
    first_quarter = f"{first.year:04d}-{3 * ((first.month - 1) // 3) + 1:02d}-01"
    expected_quarters = set()
    for grain, start, segment in truth:
        year, month = int(start[:4]), int(start[5:7])
        end_year, end_month = (year + 1, 1) if month == 10 else (year, month + 3)
        if (
            grain == "quarter"
            and start >= first_quarter
            and date(end_year, end_month, 1) <= last + timedelta(days=1)
        ):
            expected_quarters.add((grain, start, segment))
    got = {(g, s, seg) for g, s, seg, *_ in rows if g == "quarter"}
    assert got == expected_quarters and len(got) >= 8 * 4


def test_pipeline_as_of_each_day_equals_the_truth(s_dirty_warehouse, con):
    """fct_pipeline_snapshots: per month end and quarter-end horizon, the opportunities open at
    the end of that day with their amount at that day's rate, as the simulation stood then."""
    company, _ = s_dirty_warehouse
    assert assert_pipeline_as_of_equals_truth(con, company.truth) > 200
