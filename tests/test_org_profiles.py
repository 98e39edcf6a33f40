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
    code = main(
        ["generate", "--scale", "xs", "--org-profile", profile, "--out", str(landing)]
    )
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
