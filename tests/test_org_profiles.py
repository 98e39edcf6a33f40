"""Real orgs on the first morning: each `revops generate --org-profile` company, refreshed with
`revops refresh` on a new warehouse, exits 0, publishes, and its published marts equal its
truth.json (funnel, won amounts, MRR and movements, ad spend, rep wins).

The `revops` profile is the session's `s` dirty company (tests/test_funnel_marts.py and
tests/test_billing_marts.py); the other profiles run here at `xs`, one refresh each.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import duckdb
import pytest

from revops.cli import main
from tests import truth_support as ts

PROFILES = ("salesforce-defaults", "long-history", "stripe-2025", "multi-currency-gaps")


@pytest.fixture(scope="module", params=PROFILES)
def profile_refreshed(request, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    profile = request.param
    base = tmp_path_factory.mktemp(profile)
    landing, warehouse, serving = base / "landing", base / "warehouse.duckdb", base / "serving"
    code = main(["generate", "--scale", "xs", "--org-profile", profile, "--out", str(landing)])
    assert code == 0
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            ["refresh", "--landing", str(landing), "--warehouse", str(warehouse),
             "--serving", str(serving)]
        )  # fmt: skip
    text = out.getvalue()
    truth = json.loads((landing / "truth.json").read_text())
    return {
        "profile": profile,
        "code": code,
        "output": text,
        "truth": truth,
        "served": serving / "revops.duckdb",
        "warehouse": warehouse,
    }


def _served(run: dict[str, object]) -> duckdb.DuckDBPyConnection:
    path = Path(str(run["served"]))
    assert path.exists(), f"{run['profile']}: nothing published\n{run['output'][-3000:]}"
    return duckdb.connect(str(path), read_only=True)


def test_refresh_exits_0_and_publishes(profile_refreshed):
    assert profile_refreshed["code"] == 0, profile_refreshed["output"][-5000:]
    assert profile_refreshed["truth"]["generator"]["org_profile"] == profile_refreshed["profile"]
    _served(profile_refreshed).close()


def test_funnel_and_won_amounts_equal_the_truth(profile_refreshed):
    con = _served(profile_refreshed)
    assert ts.assert_funnel_equals_truth(con, profile_refreshed["truth"]) > 50
    assert ts.assert_cohorts_equal_truth(con, profile_refreshed["truth"]) > 10


def test_mrr_and_movements_equal_the_truth(profile_refreshed):
    con = _served(profile_refreshed)
    assert ts.assert_mrr_equals_truth(con, profile_refreshed["truth"]) > 100


def test_ad_spend_equals_the_truth(profile_refreshed):
    con = _served(profile_refreshed)
    assert ts.assert_spend_equals_truth(con, profile_refreshed["truth"]) > 10


def test_rep_wins_equal_the_truth(profile_refreshed):
    con = _served(profile_refreshed)
    assert ts.assert_rep_wins_equal_truth(con, profile_refreshed["truth"]) > 10


def test_pipeline_as_of_each_day_equals_the_truth(profile_refreshed):
    """The point-in-time pipeline with the org's own stage labels, deals without an amount
    (salesforce-defaults) and a currency without rates (multi-currency-gaps)."""
    con = _served(profile_refreshed)
    assert ts.assert_pipeline_as_of_equals_truth(con, profile_refreshed["truth"]) > 20


def _truth_total(truth: dict, field: str) -> int:
    return sum(int(row.get(field, 0)) for row in truth["funnel"])


def _check_salesforce_defaults(run: dict, con: duckdb.DuckDBPyConnection) -> None:
    truth = run["truth"]
    # the status no mapping knows is a warning naming it, never a blocking failure
    assert "unmapped_lead_statuses" in run["output"] and "Recycled" in run["output"]
    (queued,) = con.execute(
        "select count(*) from fct_lead_funnel where owner_type = 'queue'"
    ).fetchone()
    assert queued > 0
    (queue_reps,) = con.execute(
        "select count(*) from rep_performance where rep_id like '00G%'"
    ).fetchone()
    assert queue_reps == 0
    # Salesforce's default types map to deal categories
    categories = dict(
        con.execute("select deal_category, count(*) from fct_opportunities group by all").fetchall()
    )
    for category in ("new_business", "expansion", "renewal"):
        assert categories.get(category, 0) == _truth_total(truth, f"{category}_created")
    # won deals without an amount are counted, not summed as 0
    expected = _truth_total(truth, "won_without_amount")
    assert expected > 0
    (got,) = con.execute(
        "select sum(won_without_amount) from sales_ops_metrics_by_deal_category "
        "where segment = 'All'"
    ).fetchone()
    assert got == expected


def _check_long_history(run: dict, con: duckdb.DuckDBPyConnection) -> None:
    first = run["truth"]["funnel"][0]["month"]
    assert first < "2020-01"
    for table in ("mrr_by_month", "sales_ops_metrics", "revops_metrics"):
        (month,) = con.execute(f"select strftime(min(month), '%Y-%m') from {table}").fetchone()
        assert month == first, table


def _check_stripe_2025(run: dict, con: duckdb.DuckDBPyConnection) -> None:
    warehouse = duckdb.connect(str(run["warehouse"]), read_only=True)
    try:
        old, new = warehouse.execute(
            "select count(price), count(pricing) from raw.stripe__invoice_line_items"
        ).fetchone()
    finally:
        warehouse.close()
    # an account that upgraded its API version: both shapes in one company
    assert old > 0 and new > 0


def _check_multi_currency_gaps(run: dict, con: duckdb.DuckDBPyConnection) -> None:
    truth = run["truth"]
    # a currency with no rate at all: the amount stays, its conversion is null, never 0
    rows = con.execute(
        "select amount, amount_reporting from fct_opportunities where currency = 'CHF'"
    ).fetchall()
    assert rows and all(amount is not None and converted is None for amount, converted in rows)
    expected = _truth_total(truth, "won_unconverted")
    assert expected > 0
    (got,) = con.execute(
        "select sum(won_unconverted) from sales_ops_metrics_by_deal_category where segment = 'All'"
    ).fetchone()
    assert got == expected
    # and a warning names the currencies and the days without a rate
    assert "assert_amounts_have_fx_rates" in run["output"]
    assert "currency=CHF" in run["output"] and "currency=GBP" in run["output"]


PROFILE_CHECKS = {
    "salesforce-defaults": _check_salesforce_defaults,
    "long-history": _check_long_history,
    "stripe-2025": _check_stripe_2025,
    "multi-currency-gaps": _check_multi_currency_gaps,
}


def test_what_makes_each_profile_real_is_handled(profile_refreshed):
    con = _served(profile_refreshed)
    PROFILE_CHECKS[str(profile_refreshed["profile"])](profile_refreshed, con)
