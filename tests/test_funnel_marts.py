"""End to end on the `s` company with every --dirty fault (the `s_dirty_warehouse` session build:
generate, ingest, `dbt build`): the funnel and marketing marts must equal truth.json exactly
(counts) and to the cent (amounts)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import duckdb


def _grouped(con: duckdb.DuckDBPyConnection, sql: str) -> dict[tuple, tuple]:
    return {tuple(row[:2]): tuple(row[2:]) for row in con.execute(sql).fetchall()}


def test_funnel_by_month_and_segment_equals_the_truth(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    month = "strftime({}, '%Y-%m'), segment"
    queries = {
        "leads": f"select {month.format('created_at')}, count(*) from fct_lead_funnel",
        "mqls": f"select {month.format('mql_at')}, count(mql_at) from fct_lead_funnel",
        "sqls": f"select {month.format('sql_at')}, count(sql_at) from fct_lead_funnel",
        "opportunities_created": f"select {month.format('created_at')}, count(*) "
        "from fct_opportunities",
        "opportunities_won": f"select {month.format('close_date')}, count(*) "
        "from fct_opportunities where is_won",
        "opportunities_lost": f"select {month.format('close_date')}, count(*) "
        "from fct_opportunities where is_closed and not is_won",
        "won_amount": f"select {month.format('close_date')}, sum(amount_reporting) "
        "from fct_opportunities where is_won",
    }
    queries = {name: f"{sql} group by all" for name, sql in queries.items()}
    got: dict[tuple, dict[str, object]] = defaultdict(dict)
    for name, sql in queries.items():
        for key, (value,) in _grouped(con, sql).items():
            got[key][name] = value
    checked = 0
    for row in company.truth["funnel"]:
        key = (row["month"], row["segment"])
        for name in queries:
            expected = Decimal(row[name]) if name == "won_amount" else row[name]
            assert Decimal(got[key].get(name) or 0) == Decimal(expected), (key, name)
            checked += bool(expected)
    assert checked > 500


def test_cohort_conversion_equals_the_truth(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    got = _grouped(
        con,
        "select strftime(cohort_month, '%Y-%m'), segment, sum(leads), sum(reached_mql), "
        "sum(reached_sql), sum(reached_opportunity), sum(reached_won) "
        "from funnel_conversion group by all",
    )
    for row in company.truth["funnel_cohorts"]:
        expected = tuple(
            row[k]
            for k in ("leads", "reached_mql", "reached_sql", "reached_opportunity", "reached_won")
        )
        assert (
            tuple(int(v) for v in got.get((row["cohort_month"], row["segment"]), (0,) * 5))
            == expected
        ), row


def test_ad_spend_equals_the_truth(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    got = _grouped(
        con,
        "select strftime(report_date, '%Y-%m'), ad_platform, sum(spend_reporting), "
        "sum(impressions), sum(clicks) from fct_ad_spend_daily group by all",
    )
    for row in company.truth["ad_spend"]:
        spend, impressions, clicks = got[(row["month"], row["platform"])]
        assert (Decimal(spend), impressions, clicks) == (
            Decimal(row["spend"]),
            row["impressions"],
            row["clicks"],
        ), row


def test_excluded_and_deleted_leads_are_not_in_the_funnel(s_dirty_warehouse):
    company, warehouse = s_dirty_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    test_leads = next(f for f in company.truth["dirty"] if f["fault"] == "test_accounts")["leads"]
    placeholders = ", ".join("?" for _ in test_leads)
    assert (
        con.execute(
            f"select count(*) from fct_lead_funnel where lead_id in ({placeholders})", test_leads
        ).fetchone()[0]
        == 0
    )
    deleted = con.execute("select count(*) from stg_salesforce__leads where is_deleted").fetchone()[
        0
    ]
    assert deleted == company.truth["totals"]["leads_deleted"]
    assert (
        con.execute("select count(*) from fct_lead_funnel").fetchone()[0]
        == company.truth["totals"]["leads"]
    )
