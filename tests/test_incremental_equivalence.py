"""Incremental staging equals a rebuild on real-world faults.

The dirty `s` company (late and re-sent files, duplicated rows, out-of-order versions) is
delivered in four steps into a new warehouse, each step ingested and built by dbt
incrementally; every model table must then hold exactly what the session's one-shot build of
the same company holds (`s_dirty_warehouse`). Only `_loaded_at`, the load time stamped by the
ingestion, may differ between two warehouses, so it is left out of the comparison; and the
models that describe the loads themselves rather than the data (`LOAD_RECORDS`: one ledger row
per file attempt, with its load id and times; each object's latest load, which is the last step's
here and the only load there) differ by nature and are not compared. A fifth step then
delivers a backdated Stripe cancellation, and the billing intermediates that recompute only the
affected keys must equal their rebuild from the same staging tables.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from revops.ingest import ingest_landing
from revops.ingest.landing import link_deliveries_until

ROOT = Path(__file__).resolve().parent.parent
LOAD_TIME = "_loaded_at"
LOAD_RECORDS = {"stg_ingest__file_loads", "data_quality_quarantine_by_object"}
# The billing intermediates that recompute only the affected keys (macros/billing/affected_keys.sql)
BILLING_INCREMENTAL = ("int_subscription_item_months", "int_mrr_customer_months")


def _dbt_models(warehouse: Path, work: Path, *args: str) -> None:
    """Seeds and models (no tests: the one-shot build ran them), incremental where they are;
    `args` narrow the build (`--select ...`) or force a rebuild (`--full-refresh`)."""
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [str(dbt), "build", "--resource-type", "seed", "--resource-type", "model",
         "--profiles-dir", str(ROOT), "--project-dir", str(ROOT), "--target-path",
         str(work / "target"), "--log-path", str(work / "logs"), *args],
        cwd=ROOT, env={**os.environ, "REVOPS_WAREHOUSE": str(warehouse)},
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-5000:]


def _incremental_models(work: Path) -> set[str]:
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }


def _checksums(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every table's rows, without `_loaded_at`."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns: dict[str, list[str]] = {}
        for table, column in con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'main' and table_name in (select table_name from "
            "information_schema.tables where table_schema = 'main' and table_type = 'BASE TABLE')"
            " order by table_name, ordinal_position"
        ).fetchall():
            if column != LOAD_TIME:
                columns.setdefault(table, []).append(f'"{column}"')
        return {
            table: con.execute(
                f'select count(*), coalesce(sum(hash({", ".join(cols)})), 0) from "{table}"'
            ).fetchone()
            for table, cols in columns.items()
            if table not in LOAD_RECORDS
        }


def _pipeline_snapshots(warehouse: Path) -> dict[str, tuple[int, int]]:
    """fct_pipeline_snapshots per as-of date: row count and an order-independent row hash."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            day: (n, h)
            for day, n, h in con.execute(
                "select strftime(as_of_date, '%Y-%m-%d'), count(*), sum(hash(s)) "
                "from fct_pipeline_snapshots as s group by all"
            ).fetchall()
        }


def test_four_incremental_builds_equal_one_build(s_dirty_warehouse, tmp_path):
    company, one_shot = s_dirty_warehouse
    days = sorted({p.name for p in (company.out / "salesforce" / "Lead").iterdir()})
    cuts = [days[len(days) // 2], days[-30], days[-2], days[-1]]
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    first_snapshots: dict = {}
    for cut in cuts:
        assert link_deliveries_until(company.out, landing, cut) > 0
        summary = ingest_landing(landing, warehouse)
        assert summary.files_failed == 0, summary.errors
        _dbt_models(warehouse, tmp_path)
        if not first_snapshots:
            first_snapshots = _pipeline_snapshots(warehouse)

    # the pipeline of a past day is not recomputed from later deliveries: every as-of date the
    # first step took is, after three more steps, row for row what it was (a recent Monday that
    # fell out of the list is gone, not changed)
    later = _pipeline_snapshots(warehouse)
    month_ends = [
        d for d in first_snapshots if (dt.date.fromisoformat(d) + dt.timedelta(days=1)).day == 1
    ]
    assert len(month_ends) >= 12, sorted(first_snapshots)
    kept = {d: v for d, v in later.items() if d in first_snapshots}
    assert kept == {d: v for d, v in first_snapshots.items() if d in later}
    assert set(month_ends) <= set(kept)

    # the models this test is about did run incrementally after the first step
    incremental = _incremental_models(tmp_path)
    assert {
        "stg_salesforce__leads",
        "stg_salesforce__opportunity_history",
        "fct_pipeline_snapshots",
        *BILLING_INCREMENTAL,
    } <= incremental
    assert len(incremental) >= 9

    expected, got = _checksums(one_shot), _checksums(warehouse)
    if got["util_days"] != expected["util_days"]:
        # the date spines end at current_date: the day changed between the two builds
        pytest.skip("midnight passed between the one-shot build and this one")
    assert set(got) == set(expected)
    differing = sorted(t for t in expected if got[t] != expected[t])
    assert differing == [], {t: (got[t], expected[t]) for t in differing}

    # late edits of old months, in a delivery after the last one: a subscription in service
    # for a year is cancelled backdated by about six months, and an FX rate of an old month end
    # is corrected; the incremental billing models then equal their rebuild from the same
    # staging tables (only they are rebuilt: the one-shot comparison above covers the rest)
    subscription_id, old_months = _long_running_subscription(warehouse)
    _deliver_backdated_cancellation(company.out, landing, subscription_id, days[-1])
    currency, month_end, old_mrr = _deliver_corrected_fx_rate(warehouse, landing, days[-1])
    summary = ingest_landing(landing, warehouse)
    assert summary.files_failed == 0, summary.errors
    # what lies between the edited Stripe and FX rows and the models (the CRM side is current)
    select = [
        f"source:{src}+,+{model}"
        for src in ("stripe", "reference")
        for model in BILLING_INCREMENTAL
    ]
    _dbt_models(warehouse, tmp_path, "--select", *select)
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(warehouse, rebuilt)
    _dbt_models(rebuilt, tmp_path, "--select", *BILLING_INCREMENTAL, "--full-refresh")
    incremental_rows, rebuilt_rows = _checksums(warehouse), _checksums(rebuilt)
    for model in BILLING_INCREMENTAL:
        assert incremental_rows[model] == rebuilt_rows[model], model
    # the edit did reach old months: the subscription lost its last five months of service
    _, new_months = _long_running_subscription(warehouse, subscription_id)
    assert len(old_months) - len(new_months) >= 5, (old_months, new_months)
    assert new_months == old_months[: len(new_months)]
    # ... and the corrected rate reached that old month's MRR
    assert _mrr_of(warehouse, currency, month_end) != old_mrr


def _mrr_of(warehouse: Path, currency: str, month_end: dt.date):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select sum(mrr) from int_mrr_customer_months "
            "where currency = ? and reference_date = ?",
            [currency, month_end],
        ).fetchone()[0]


def _deliver_corrected_fx_rate(
    warehouse: Path, landing: Path, last_day: str
) -> tuple[str, dt.date, object]:
    """A new delivery, the day after `last_day`, whose FX file corrects (x 1.5) the rate of a
    month end about four months earlier, for a currency with MRR that month; returns the
    currency, the month end and that month's MRR in it before the correction."""
    last = dt.date.fromisoformat(last_day)
    month_end = (last - dt.timedelta(days=120)).replace(day=1) - dt.timedelta(days=1)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        currency, reporting, rate = con.execute(
            "select currency, reporting_currency, any_value(rate_to_reporting) "
            "from int_mrr_customer_months where reference_date = ? and mrr > 0 "
            "and currency != reporting_currency group by all order by currency limit 1",
            [month_end],
        ).fetchone()
    old_mrr = _mrr_of(warehouse, currency, month_end)
    day = (last + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    folder = landing / "reference" / "fx_rates" / day
    folder.mkdir(parents=True)
    (folder / "fx_rates.csv").write_text(
        '"rate_date","base_currency","quote_currency","rate"\n'
        f'"{month_end}","{currency}","{reporting}","{float(rate) * 1.5:.6f}"\n',
        encoding="utf-8",
    )
    return currency, month_end, old_mrr


def _long_running_subscription(
    warehouse: Path, subscription_id: str | None = None
) -> tuple[str, list[str]]:
    """A subscription still in service in the latest month after at least 12 months of
    service (or `subscription_id`), and its months in int_subscription_item_months."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if subscription_id is None:
            subscription_id = con.execute(
                "select subscription_id from int_subscription_item_months group by all "
                "having count(distinct month_start_date) >= 12 and max(month_start_date) = "
                "(select max(month_start_date) from int_billing_months) "
                "order by subscription_id limit 1"
            ).fetchone()[0]
        months = [
            str(m)
            for (m,) in con.execute(
                "select distinct month_start_date from int_subscription_item_months "
                "where subscription_id = ? order by 1",
                [subscription_id],
            ).fetchall()
        ]
    return subscription_id, months


def _deliver_backdated_cancellation(
    company_out: Path, landing: Path, subscription_id: str, last_day: str
) -> None:
    """A new delivery, the day after `last_day`, whose subscriptions file holds the latest
    delivered version of `subscription_id`, cancelled and ended 200 days before `last_day`.
    (The landing folder's files are hard links of the company's: this writes a new file.)"""
    latest = None
    for path in sorted((company_out / "stripe" / "subscriptions").glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if f'"{subscription_id}"' in line:
                latest = json.loads(line)
    assert latest is not None and latest["id"] == subscription_id
    last = dt.datetime.fromisoformat(last_day).replace(tzinfo=dt.UTC)
    ended = int((last - dt.timedelta(days=200)).timestamp())
    latest.update(status="canceled", canceled_at=ended, ended_at=ended)
    day = (last + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    folder = landing / "stripe" / "subscriptions" / day
    folder.mkdir(parents=True)
    (folder / "subscriptions.jsonl").write_text(json.dumps(latest) + "\n", encoding="utf-8")
