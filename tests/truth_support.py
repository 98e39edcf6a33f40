"""Comparisons of a built warehouse (or a published snapshot) with the generator's truth.json.

Each function checks one part of the truth against the marts, exactly (counts) and to the cent
(amounts), and returns how many non-zero expected values it checked, so that a caller can
assert the comparison was not vacuous.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import duckdb

# truth.json `funnel` field -> the fct_* query that gives it per month and segment.
_MONTH = "strftime({}, '%Y-%m'), segment"
FUNNEL_QUERIES = {
    "leads": f"select {_MONTH.format('created_at')}, count(*) from fct_lead_funnel",
    "mqls": f"select {_MONTH.format('mql_at')}, count(mql_at) from fct_lead_funnel",
    "sqls": f"select {_MONTH.format('sql_at')}, count(sql_at) from fct_lead_funnel",
    "opportunities_created": f"select {_MONTH.format('created_at')}, count(*) "
    "from fct_opportunities",
    "opportunities_won": f"select {_MONTH.format('close_date')}, count(*) "
    "from fct_opportunities where is_won",
    "opportunities_lost": f"select {_MONTH.format('close_date')}, count(*) "
    "from fct_opportunities where is_closed and not is_won",
    # amounts without a usable rate are null, never 0, and so are left out of the sum
    "won_amount": f"select {_MONTH.format('close_date')}, sum(amount_reporting) "
    "from fct_opportunities where is_won",
    "won_without_amount": f"select {_MONTH.format('close_date')}, count(*) "
    "from fct_opportunities where is_won and amount is null",
    "won_unconverted": f"select {_MONTH.format('close_date')}, count(*) "
    "from fct_opportunities where is_won and amount is not null and amount_reporting is null",
}
AMOUNTS = {"won_amount"}

# truth.json `mrr` field -> mrr_by_month column.
MRR_FIELDS = {
    "mrr": "mrr",
    "customers": "customers",
    "previous_mrr": "starting_mrr",
}
# truth.json `mrr_fx_neutral` field -> mrr_by_month column: the FX-neutral bridge, the customers
# behind each movement, and the retention parts (constant currency).
MRR_FX_NEUTRAL_FIELDS = {
    "mrr": "mrr",
    "previous_mrr": "starting_mrr",
    "new": "new_mrr",
    "new_customers": "new_customers",
    "reactivation": "reactivation_mrr",
    "reactivation_customers": "reactivation_customers",
    "expansion": "expansion_mrr",
    "expansion_customers": "expansion_customers",
    "contraction": "contraction_mrr",
    "contraction_customers": "contraction_customers",
    "churn": "churn_mrr",
    "churn_customers": "churn_customers",
    "fx": "fx_mrr",
    "fx_customers": "fx_customers",
    "monthly_retention_base": "monthly_net_revenue_retention_denominator",
    "monthly_net_retained": "monthly_net_revenue_retention_numerator",
    "monthly_gross_retained": "monthly_gross_revenue_retention_numerator",
    "trailing_12m_retention_base": "trailing_12m_net_revenue_retention_denominator",
    "trailing_12m_net_retained": "trailing_12m_net_revenue_retention_numerator",
    "trailing_12m_gross_retained": "trailing_12m_gross_revenue_retention_numerator",
}


def _grouped(con: duckdb.DuckDBPyConnection, sql: str) -> dict[tuple, tuple]:
    return {tuple(row[:2]): tuple(row[2:]) for row in con.execute(sql).fetchall()}


def _decimal(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def assert_funnel_equals_truth(con: duckdb.DuckDBPyConnection, truth: dict) -> int:
    """truth `funnel` (month x segment) against fct_lead_funnel and fct_opportunities."""
    got: dict[tuple, dict[str, object]] = defaultdict(dict)
    for name, sql in FUNNEL_QUERIES.items():
        for key, (value,) in _grouped(con, f"{sql} group by all").items():
            got[key][name] = value
    checked = 0
    for row in truth["funnel"]:
        key = (row["month"], row["segment"])
        for name in FUNNEL_QUERIES:
            if name not in row and name in ("won_without_amount", "won_unconverted"):
                expected: object = 0  # truth written before these fields existed
            else:
                expected = row[name]
            want = Decimal(expected) if name in AMOUNTS else expected
            have = _decimal(got[key].get(name)) if name in AMOUNTS else got[key].get(name) or 0
            assert have == want, (key, name, have, want)
            checked += bool(want)
    # every month x segment the marts hold is in the truth (nothing outside it)
    listed = {(row["month"], row["segment"]) for row in truth["funnel"]}
    extra = {key for key, values in got.items() if key not in listed and any(values.values())}
    assert not extra, sorted(extra)[:10]
    return checked


def assert_cohorts_equal_truth(con: duckdb.DuckDBPyConnection, truth: dict) -> int:
    got = _grouped(
        con,
        "select strftime(cohort_month, '%Y-%m'), segment, sum(leads), sum(reached_mql), "
        "sum(reached_sql), sum(reached_opportunity), sum(reached_won) "
        "from funnel_conversion group by all",
    )
    checked = 0
    names = ("leads", "reached_mql", "reached_sql", "reached_opportunity", "reached_won")
    for row in truth["funnel_cohorts"]:
        expected = tuple(row[k] for k in names)
        have = tuple(int(v) for v in got.get((row["cohort_month"], row["segment"]), (0,) * 5))
        assert have == expected, row
        checked += any(expected)
    return checked


def _mrr_by_month(con: duckdb.DuckDBPyConnection, fields: dict[str, str]) -> dict[tuple, dict]:
    columns = ", ".join(fields.values())
    return {
        (row[0], row[1]): dict(zip(fields, row[2:], strict=True))
        for row in con.execute(
            f"select strftime(month, '%Y-%m'), segment, {columns} from mrr_by_month"
        ).fetchall()
    }


def _assert_rows_equal(got: dict[tuple, dict], rows: list[dict], fields: dict[str, str]) -> int:
    checked = 0
    for row in rows:
        key = (row["month"], row["segment"])
        assert key in got, key
        for field in fields:
            assert got[key][field] is not None, (key, field)
            assert Decimal(str(got[key][field])) == Decimal(str(row[field])), (
                key,
                field,
                got[key][field],
                row[field],
            )
            checked += Decimal(str(row[field])) != 0
    return checked


def assert_mrr_equals_truth(con: duckdb.DuckDBPyConnection, truth: dict) -> int:
    """truth `mrr` (month x segment) against mrr_by_month: MRR, customers and starting MRR; and
    truth `mrr_fx_neutral`: every FX-neutral movement, fx and its customers, and the retention
    parts, to the cent."""
    got = _mrr_by_month(con, MRR_FIELDS)
    checked = _assert_rows_equal(got, truth["mrr"], MRR_FIELDS)
    listed = {(row["month"], row["segment"]) for row in truth["mrr"]}
    for key, values in got.items():
        if key not in listed and key[1] != "All":
            assert values["mrr"] == 0 and values["previous_mrr"] == 0, key
    neutral = _mrr_by_month(con, MRR_FX_NEUTRAL_FIELDS)
    checked += _assert_rows_equal(neutral, truth["mrr_fx_neutral"], MRR_FX_NEUTRAL_FIELDS)
    assert {(row["month"], row["segment"]) for row in truth["mrr_fx_neutral"]} == listed
    for key, values in neutral.items():
        if key not in listed and key[1] != "All":
            assert not any(values.values()), key
    return checked


def assert_spend_equals_truth(con: duckdb.DuckDBPyConnection, truth: dict) -> int:
    got = _grouped(
        con,
        "select strftime(report_date, '%Y-%m'), ad_platform, sum(spend_reporting), "
        "sum(impressions), sum(clicks) from fct_ad_spend_daily group by all",
    )
    for row in truth["ad_spend"]:
        spend, impressions, clicks = got[(row["month"], row["platform"])]
        assert (_decimal(spend), impressions, clicks) == (
            Decimal(row["spend"]),
            row["impressions"],
            row["clicks"],
        ), row
    assert len(got) == len(truth["ad_spend"])
    return len(truth["ad_spend"])


def assert_rep_wins_equal_truth(con: duckdb.DuckDBPyConnection, truth: dict) -> int:
    """truth `reps` (month x owner) against rep_performance: new-business wins and won amount
    per rep (rep_performance counts new-business deals; a truth written before the
    new_business_* fields existed had every deal type in opportunities_won)."""
    got = _grouped(
        con,
        "select strftime(month_start_date, '%Y-%m'), rep_id, opportunities_won, "
        "won_amount_reporting from rep_performance",
    )
    checked = 0
    for row in truth["reps"]:
        key = (row["month"], row["owner_id"])
        won, amount = got.get(key, (0, None))
        want = (row["new_business_won"], Decimal(row["new_business_won_amount"]))
        assert (won or 0, _decimal(amount)) == want, (key, won, amount, row)
        checked += bool(row["new_business_won"])
    listed = {(row["month"], row["owner_id"]) for row in truth["reps"]}
    extra = [key for key, (won, _) in got.items() if won and key not in listed]
    assert not extra, extra[:10]
    return checked


def assert_deal_categories_equal_truth(con: duckdb.DuckDBPyConnection, truth: dict) -> int:
    """truth `deal_categories` against the marts: per month x segment x category,
    sales_ops_metrics_by_deal_category's counts and won amounts; sales_ops_metrics' opportunity
    columns equal the new_business rows; and its `All` close rate the new-business close rate."""
    fields = (
        "opportunities_created",
        "opportunities_won",
        "opportunities_lost",
        "won_amount",
        "won_without_amount",
        "won_unconverted",
    )
    columns = ", ".join(fields)
    got = {
        tuple(row[:3]): dict(zip(fields, row[3:], strict=True))
        for row in con.execute(
            f"select strftime(month, '%Y-%m'), segment, deal_category, {columns} "
            "from sales_ops_metrics_by_deal_category where segment <> 'All'"
        ).fetchall()
    }
    sales_ops = {
        tuple(row[:2]): dict(zip(fields[:4], row[2:], strict=True))
        for row in con.execute(
            "select strftime(month, '%Y-%m'), segment, opportunities_created, "
            "opportunities_won, opportunities_lost, won_amount from sales_ops_metrics"
        ).fetchall()
    }
    checked = 0
    listed = set()
    for row in truth["deal_categories"]["rows"]:
        key = (row["month"], row["segment"], row["deal_category"])
        listed.add(key)
        have = got.get(key, dict.fromkeys(fields, 0))
        for name in fields:
            want = Decimal(row[name]) if name == "won_amount" else row[name]
            value = _decimal(have[name]) if name == "won_amount" else have[name]
            assert value == want, (key, name, value, want)
            checked += bool(want)
            if row["deal_category"] == "new_business" and name in fields[:4]:
                in_sales_ops = sales_ops.get(key[:2], dict.fromkeys(fields[:4], 0))[name]
                assert (_decimal(in_sales_ops) if name == "won_amount" else in_sales_ops) == want, (
                    key,
                    name,
                    "sales_ops_metrics",
                )
    extra = [key for key, values in got.items() if key not in listed and any(values.values())]
    assert not extra, sorted(extra)[:10]
    close_rates = dict(
        con.execute(
            "select strftime(month, '%Y-%m'), close_rate from sales_ops_metrics "
            "where segment = 'All'"
        ).fetchall()
    )
    for row in truth["deal_categories"]["new_business_close_rate"]:
        have = close_rates.get(row["month"])
        if row["close_rate"] is None:
            assert have is None, row
        else:
            assert have is not None and abs(have - row["close_rate"]) < 1e-12, (row, have)
            checked += 1
    return checked


def assert_costs_equal_truth(con: duckdb.DuckDBPyConnection, truth: dict) -> int:
    """truth `costs` against sales_ops_metrics' `All` rows: paid and event leads, the expenses
    as delivered (null until then), whether the month's expenses are complete; and fully loaded
    CAC, LTV:CAC and payback on one basis: (truth ad spend + expenses) / truth new customers in
    a complete month, null (never paid-only) in one whose expenses are not delivered."""
    spend: dict[str, Decimal] = defaultdict(Decimal)
    for row in truth["ad_spend"]:
        spend[row["month"]] += Decimal(row["spend"])
    new_customers: dict[str, int] = defaultdict(int)
    for row in truth["mrr_fx_neutral"]:
        new_customers[row["month"]] += row["new_customers"]
    got = {
        row[0]: row[1:]
        for row in con.execute(
            "select strftime(month, '%Y-%m'), paid_leads, event_leads, sales_marketing_expenses, "
            "marketing_program_expenses, event_expenses, is_expenses_complete, is_complete, "
            "cac_fully_loaded, ltv_to_cac, cac_payback_months, cac_paid "
            "from sales_ops_metrics where segment = 'All'"
        ).fetchall()
    }
    checked = 0
    for row in truth["costs"]:
        month = row["month"]
        assert month in got, month
        paid, event, expenses, programs, events, delivered, complete, cac, ltv, payback, _ = got[
            month
        ]
        assert (paid, event) == (row["paid_leads"], row["event_leads"]), month
        for name, value in (
            ("sales_marketing_expenses", expenses),
            ("marketing_program_expenses", programs),
            ("event_expenses", events),
        ):
            expected = None if row[name] is None else Decimal(row[name])
            assert value == expected, (month, name, value, expected)
        assert delivered == row["expenses_delivered"], month
        checked += (paid > 0) + (event > 0) + (expenses is not None)
        if not row["expenses_delivered"]:
            # the basis never changes: no fully loaded figure, and nothing in its place
            assert not complete and cac is None and ltv is None and payback is None, month
        elif complete and new_customers[month]:
            expected_cac = (spend[month] + Decimal(row["sales_marketing_expenses"])) / Decimal(
                new_customers[month]
            )
            assert abs(Decimal(str(cac)) - expected_cac) < Decimal("0.000001"), month
            checked += 1
    assert any(not r["expenses_delivered"] for r in truth["costs"])  # the newest month
    return checked


def assert_pipeline_as_of_equals_truth(con: duckdb.DuckDBPyConnection, truth: dict) -> int:
    """truth `pipeline_as_of` (as-of date x stage: open opportunities, their amount at that
    day's rate, and those left out of it) against fct_pipeline_snapshots. Every truth date
    must be an as-of date of the model; the model's other dates (recent Mondays) are not in
    the truth."""
    got = {
        (row[0], row[1]): row[2:]
        for row in con.execute(
            "select strftime(as_of_date, '%Y-%m-%d'), stage_name, count(*), "
            "sum(amount_reporting), count(*) filter (where amount is null), "
            "count(*) filter (where amount is not null and amount_reporting is null) "
            "from fct_pipeline_snapshots group by all"
        ).fetchall()
    }
    snapshot_dates = {
        row[0]
        for row in con.execute(
            "select distinct strftime(as_of_date, '%Y-%m-%d') from fct_pipeline_snapshots"
        ).fetchall()
    }
    rows = truth["pipeline_as_of"]
    dates = {row["as_of_date"] for row in rows}
    assert dates <= snapshot_dates, sorted(dates - snapshot_dates)[:10]
    want = {
        (r["as_of_date"], r["stage_name"]): (
            r["open_opportunities"],
            Decimal(r["amount"]),
            r["amount_missing"],
            r["amount_unconverted"],
        )
        for r in rows
    }
    have = {
        key: (n, _decimal(amount), missing, unconverted)
        for key, (n, amount, missing, unconverted) in got.items()
        if key[0] in dates
    }
    differing = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
    assert not differing, [(k, want.get(k), have.get(k)) for k in differing[:10]]
    return len(want)
