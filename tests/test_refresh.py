"""The daily refresh end to end: `revops demo` / `revops refresh` on the `xs` company, the
published snapshot, its readers, a failing blocking check, a killed refresh, and day-by-day
increments against one refresh over all days."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from revops import checks, cli, contract, publish
from revops.cli import main
from revops.headline import MONEY, format_value
from revops.ingest.landing import link_deliveries_until
from revops.refresh import run_refresh
from tests.publish_support import served_pair

ROOT = Path(__file__).resolve().parent.parent
MART_CHECK_TABLES = ("mrr_by_month", "sales_ops_metrics", "revops_metrics", "fct_opportunities")


def _served(serving: Path) -> Path:
    return serving / publish.SERVING_FILE


def _query(path: Path, sql: str) -> list[tuple]:
    con = publish.connect_read_only(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_demo_prints_the_refresh_and_headline_metrics(xs_published):
    text = xs_published["output"]
    assert "Refresh" in text and "Headline metrics" in text
    assert "not published" not in text
    report = xs_published["serving"].resolve() / publish.REPORT_FILE  # the fixed path, not its
    assert f"Report: {report}" in text.replace("\n", "")  # target in the served pair
    sid = publish.served_snapshot_id(xs_published["serving"])
    assert sid in report.read_text(encoding="utf-8")
    # the served report names the snapshot the served database holds
    assert served_pair(xs_published["serving"]) == (sid, sid)
    last_mrr = f"{Decimal(xs_published['truth']['totals']['mrr_last_month']):,.0f}"
    assert last_mrr in text  # the newest month's MRR, as the published marts hold it


def test_published_snapshot_holds_only_the_marts(xs_published, dbt_manifest):
    served = _served(xs_published["serving"])
    tables = {
        (schema, name)
        for schema, name in _query(
            served, "select table_schema, table_name from information_schema.tables"
        )
    }
    marts = {t.name for t in publish.mart_tables(dbt_manifest)}
    assert {name for _, name in tables} == marts | {
        publish.SNAPSHOT_TABLE,
        publish.SOURCES_TABLE,
        publish.CHECKS_TABLE,
        publish.FAILED_FILES_TABLE,
        publish.METRIC_DEFINITIONS_TABLE,
    }
    assert {schema for schema, _ in tables} == {"main"}
    assert not any(name.startswith(("stg_", "int_", "raw", "util_")) for _, name in tables)
    # no personal data: no email-like value in any text column of any table
    for name in marts:
        columns = _query(
            served,
            "select column_name from information_schema.columns "
            f"where table_name = '{name}' and data_type = 'VARCHAR'",
        )
        for (column,) in columns:
            hits = _query(served, f'select count(*) from "{name}" where "{column}" like \'%@%.%\'')
            assert hits == [(0,)], f"{name}.{column} holds email addresses"
    # no bookkeeping column (`_inputs_signature`, `_loaded_at` of an incremental mart)
    bookkeeping = _query(
        served, "select table_name, column_name from information_schema.columns "
        "where column_name like '\\_%' escape '\\'",
    )  # fmt: skip
    assert bookkeeping == []
    # the same contents as the warehouse marts
    con = duckdb.connect(str(xs_published["warehouse"]), read_only=True)
    try:
        kept = [
            f'"{name}"'
            for (name,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_name = 'fct_attribution' order by ordinal_position"
            ).fetchall()
            if not name.startswith("_")
        ]
        assert len(kept) < len(con.execute("describe fct_attribution").fetchall())
        sql = f"select count(*), sum(hash({', '.join(kept)})) from fct_attribution"
        assert con.execute(sql).fetchone() == _query(served, sql)[0]
        for name in MART_CHECK_TABLES:
            # the published columns: a mart's bookkeeping columns (`_...`) are left out
            published = ", ".join(
                f'"{column}"'
                for (column,) in con.execute(
                    "select column_name from information_schema.columns "
                    f"where table_name = '{name}' and column_name not like '\\_%' escape '\\' "
                    "order by ordinal_position"
                ).fetchall()
            )
            sql = f"select count(*), sum(hash({published})) from {name}"
            wh = con.execute(sql).fetchone()
            pub = _query(served, sql)[0]
            assert wh == pub, name
    finally:
        con.close()


def test_published_values_match_the_generator_truth(xs_published):
    served = _served(xs_published["serving"])
    truth = xs_published["truth"]
    mrr = {
        (month.strftime("%Y-%m"), segment): (value, customers)
        for month, segment, value, customers in _query(
            served, "select month, segment, mrr, customers from mrr_by_month"
        )
    }
    for row in truth["mrr"]:
        key = (row["month"], row["segment"])
        assert mrr[key] == (Decimal(row["mrr"]), row["customers"]), key
    funnel = {
        (month.strftime("%Y-%m"), segment): counts
        for month, segment, *counts in _query(
            served,
            "select month, segment, leads, mqls, sqls, opportunities_won, won_amount "
            "from sales_ops_metrics where segment <> 'All'",
        )
    }
    for row in truth["funnel"]:
        key = (row["month"], row["segment"])
        # the opportunity columns of sales_ops_metrics are new-business
        expected = [row["leads"], row["mqls"], row["sqls"], row["new_business_won"],
                    Decimal(row["new_business_won_amount"])]  # fmt: skip
        assert funnel[key] == expected, key
    (sources,) = _query(
        served,
        f"select count(*), count(*) filter (where status = 'ok') from {publish.SOURCES_TABLE}",
    )
    # every object of the contract has a row; every required one was delivered (the optional
    # Salesforce metadata objects are not in this company's exports, nor HubSpot's, the CRM
    # it does not use)
    required = sum(not obj.optional and obj.source != "hubspot" for obj in contract.OBJECTS)
    assert sources == (len(contract.OBJECTS), required)


def test_duckdb_engine_reads_the_snapshot_as_superset_does(xs_published):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(
        f"duckdb:///{_served(xs_published['serving'])}",
        connect_args={
            "read_only": True,
            "config": {"enable_external_access": False, "lock_configuration": True},
        },
    )
    try:
        with engine.connect() as conn:
            names = set(sqlalchemy.inspect(conn).get_table_names())
            assert {"mrr_by_month", "revops_metrics", publish.SNAPSHOT_TABLE} <= names
            value = conn.execute(
                sqlalchemy.text(
                    "select mrr from mrr_by_month where segment = 'All' order by month desc limit 1"
                )
            ).scalar_one()
            assert value is not None
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="read-only"):
                conn.execute(sqlalchemy.text("create table x as select 1"))
    finally:
        engine.dispose()


def test_rollback_serves_the_previous_snapshot_and_keeps_n(xs_published, dbt_manifest, tmp_path):
    serving = tmp_path / "serving"
    tables = [t for t in publish.mart_tables(dbt_manifest) if t.name in MART_CHECK_TABLES]
    ids = [
        publish.publish_snapshot(xs_published["warehouse"], serving, tables, run_id=f"r{i}", keep=3)
        for i in range(4)
    ]
    kept = [s.snapshot_id for s in publish.list_snapshots(serving)]
    assert kept == [s.snapshot_id for s in ids[1:]]  # the oldest was pruned
    assert publish.served_snapshot_id(serving) == ids[3].snapshot_id
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["rollback", "--serving", str(serving)]) == 0
    assert publish.served_snapshot_id(serving) == ids[2].snapshot_id
    (sid,) = _query(_served(serving), f"select snapshot_id from {publish.SNAPSHOT_TABLE}")[0]
    assert sid == ids[2].snapshot_id
    with contextlib.redirect_stdout(out):
        assert main(["rollback", "--serving", str(serving), "--to", ids[1].snapshot_id]) == 0
        assert main(["rollback", "--serving", str(serving)]) == 2  # nothing older is kept
        assert main(["rollback", "--serving", str(serving), "--to", "nope"]) == 2
    assert publish.served_snapshot_id(serving) == ids[1].snapshot_id


def test_a_failing_blocking_check_publishes_nothing(xs_published, tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    shutil.copyfile(xs_published["warehouse"], warehouse)
    shutil.copytree(xs_published["serving"], serving)
    before = publish.served_snapshot_id(serving)
    con = duckdb.connect(str(warehouse))
    try:  # a raw row lost behind the ledger's back
        con.execute(
            "delete from raw.salesforce__lead where rowid = (select min(rowid) from "
            "raw.salesforce__lead)"
        )
    finally:
        con.close()

    result = run_refresh(xs_published["landing"], warehouse, serving, parse=False)

    assert not result.ok
    assert result.checks_failed == ["salesforce/lead:loaded_plus_rejected_equals_file_rows"]
    assert result.published is None and result.models == 0  # dbt and publish did not run
    assert publish.served_snapshot_id(serving) == before
    assert len(publish.list_snapshots(serving)) == len(
        publish.list_snapshots(xs_published["serving"])
    )


def test_a_failing_dbt_check_explains_itself_and_the_served_report_says_so(
    xs_published, tmp_path, monkeypatch
):
    """A user's id changes behind the CRM's back: blocking relationships tests fail. The
    refresh prints each failing check's meaning, row count and sample rows; the served report
    (same numbers) opens with "latest refresh did not publish". The settings file's overrides
    reached dbt."""
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    shutil.copyfile(xs_published["warehouse"], warehouse)
    shutil.copytree(xs_published["serving"], serving)
    before = publish.served_snapshot_id(serving)
    served_numbers = publish.table_checksums(_served(serving), ["mrr_by_month"])
    org = tmp_path / "org.toml"
    org.write_text(
        'gross_margin = 0.5\n[[mappings.utm_medium_channels]]\nutm_medium = "cpc"\n'
        'channel = "paid_search_org"\n'
    )
    monkeypatch.setenv("REVOPS_SETTINGS", str(org))
    con = duckdb.connect(str(warehouse))
    try:  # stg_salesforce__users is rebuilt from raw on every run (not incremental)
        (user_id,) = con.execute("select min(OwnerId) from raw.salesforce__opportunity").fetchone()
        con.execute(
            "update raw.salesforce__user set Id = '005000000BROKEN' where Id = ?", [user_id]
        )
    finally:
        con.close()

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            ["refresh", "--landing", str(xs_published["landing"]), "--warehouse",
             str(warehouse), "--serving", str(serving)]
        )  # fmt: skip
    (tmp_path / "refresh.txt").write_text(out.getvalue())
    text = " ".join(out.getvalue().split())
    assert code == 1, text[-3000:]
    # each failing relationships test: its meaning, failing rows, the orphaned owner id
    found = re.findall(
        r"failed check: (relationships_\w+): relationships: every (\w+)\.owner_id must exist in "
        r"\w+\.\w+ \(([\d,]+) failing rows\) e\.g\. \w+=(\w+)",
        text,
    )
    assert "fct_opportunities" in {model for _, model, _, _ in found}, text[-3000:]
    assert {sample for _, _, _, sample in found} == {user_id}
    assert "org.toml (1 mapping rows)" in text  # the settings file applied

    explained = checks.read_checks(checks.checks_path(warehouse))
    failing = {c.name: c for c in explained if c.blocking}
    for name, _, rows, _ in found:
        assert failing[name].failures == int(rows.replace(",", "")) > 0
        assert failing[name].samples[0] == {"from_field": user_id}

    # nothing published; the served snapshot and its numbers are the same
    assert publish.served_snapshot_id(serving) == before
    assert publish.table_checksums(_served(serving), ["mrr_by_month"]) == served_numbers
    failure = publish.latest_failed_refresh(serving)
    assert failure and failure["checks"]
    page = (serving / publish.REPORT_FILE).read_text(encoding="utf-8")
    assert 'id="latest-refresh"' in page and found[0][0] in page and user_id in page
    assert page.index('id="latest-refresh"') < page.index('id="freshness"')
    kept = (serving / publish.SNAPSHOT_DIR / f"{before}.html").read_text(encoding="utf-8")
    assert 'id="latest-refresh"' not in kept  # what a rollback serves stays clean

    # the settings file reached dbt: the override row is in the merged mapping
    (channel,) = _query(
        warehouse, "select channel from main.stg_settings__utm_medium_channels "
        "where utm_medium = 'cpc'"
    )[0]  # fmt: skip
    assert channel == "paid_search_org"


def _resent_rows(landing: Path, folder: str, day: str, rows: slice) -> tuple[list[str], list]:
    """The header and some records of the object's delivery of `day` (csv module, as read)."""
    (path,) = sorted((landing / folder / day).glob("*.csv"))[:1]
    with path.open(encoding="utf-8", newline="") as handle:
        header, *records = list(csv.reader(handle))
    return header, records[rows]


def _csv(header: list[str], records: list, delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerows([header, *records])
    return out.getvalue().encode("utf-8")


def _ledger_since(warehouse: Path, after) -> tuple[set[str], tuple]:
    """The load ids of ledger rows finished after `after`, and what those rows add up to."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        ids = {r[0] for r in con.execute(
            "select distinct load_id from raw._load_ledger where finished_at > ?", [after]
        ).fetchall()}  # fmt: skip
        marks = ", ".join("?" for _ in ids) or "null"
        counts = con.execute(
            f"""
            select
                count(*) filter (where status = 'loaded'),
                count(*) filter (where status = 'duplicate'),
                count(*) filter (where status = 'failed'),
                coalesce(sum(rows_loaded), 0),
                coalesce(sum(rows_rejected), 0),
                coalesce(sum(rows_quarantined), 0)
            from raw._load_ledger
            where load_id in ({marks})
            """,
            list(ids),
        ).fetchone()
        return ids, counts
    finally:
        con.close()


def test_a_failed_file_is_published_without_and_warned_unless_strict(xs_published, tmp_path):
    """The failed-file policy (docs/INGESTION.md). A semicolon-delimited Lead file fails beside
    two good Lead files, and the landing folder has folders the contract does not know.
    Default: the refresh publishes without the failed file; the CLI, a Dagster WARN check and
    the report name it; the summary equals this run's ledger rows. The same landing with
    --strict: nothing new is read, the same file is still open, nothing is published and the
    refusal names the file."""
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    shutil.copyfile(xs_published["warehouse"], warehouse)
    shutil.copytree(xs_published["serving"], serving)
    before = publish.served_snapshot_id(serving)
    landing = tmp_path / "landing"
    last = xs_published["truth"]["generator"]["end_date"]
    link_deliveries_until(xs_published["landing"], landing, last)  # the same, unchanged files
    lead = "salesforce/Lead"
    day = max(p.name for p in (landing / lead).iterdir())
    # two good files: leads already delivered, sent again (the same values, new versions)
    header, records = _resent_rows(landing, lead, day, slice(0, 4))
    (landing / lead / day / "Lead_resent_a.csv").write_bytes(_csv(header, records[:2]))
    (landing / lead / day / "Lead_resent_b.csv").write_bytes(_csv(header, records[2:]))
    bad = f"{lead}/{day}/Lead_semicolon.csv"
    (landing / bad).write_bytes(_csv(header, records[:2], delimiter=";"))
    for unknown in ("pipedrive/deals/2025-01-01", "salesforce/Leads/2025-01-01"):
        (landing / unknown).mkdir(parents=True)
        (landing / unknown / "x.csv").write_bytes(b"Id\n1\n")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (ledger_end,) = con.execute("select max(finished_at) from raw._load_ledger").fetchone()
    finally:
        con.close()

    def refresh(strict: bool):
        out = io.StringIO()
        console = Console(file=out, width=250)
        result = cli.run_refresh(landing, warehouse, serving, console, strict=strict)
        (tmp_path / f"refresh-strict-{strict}.txt").write_text(out.getvalue())
        return result, " ".join(out.getvalue().split())

    result, text = refresh(strict=False)

    assert result.ok, text[-3000:]
    ids, counts = _ledger_since(warehouse, ledger_end)
    assert set(result.load_ids) == ids and len(ids) == 1  # one object loaded files
    fields = (
        "files_loaded",
        "files_duplicate",
        "files_failed",
        "rows_loaded",
        "rows_rejected",
        "rows_quarantined",
    )
    assert tuple(getattr(result, f) for f in fields) == counts == (2, 0, 1, 4, 0, 0)
    assert "2 files loaded, 0 duplicate, 1 failed; 4 rows, 0 rejected, 0 quarantined" in text
    assert f"failed file: {bad}: missing required column(s)" in text
    assert "semicolon-delimited" in text and "published without it" in text
    for unknown in ("pipedrive/", "salesforce/Leads/"):
        assert f"warning: {unknown} is not an object of the export contract (not loaded)" in text
    assert "not published" not in text
    assert {"salesforce/lead:no_unresolved_failed_files", "landing_folder:no_unknown_folders"} <= (
        set(result.checks_warned)
    )
    published = publish.served_snapshot_id(serving)
    assert published != before and result.published["snapshot_id"] == published
    assert _query(_served(serving), f"select file_path from {publish.FAILED_FILES_TABLE}") == [
        (bad,)
    ]
    page = (serving / publish.REPORT_FILE).read_text(encoding="utf-8")
    assert 'id="failed-files-status"' in page and bad in page
    assert 'id="latest-refresh"' not in page and publish.latest_failed_refresh(serving) is None

    strict, text = refresh(strict=True)

    assert not strict.ok and strict.published is None
    assert "not published: the previous snapshot stays served" in text
    assert (strict.files_loaded, strict.files_failed, strict.rows_loaded) == (0, 0, 0)
    assert strict.load_ids == []  # nothing new was read: the same data, the same open file
    assert [f.file_path for f in strict.open_failures] == [bad]
    assert f"failed file: {bad}" in text and "strict: nothing is published" in text
    refusal = " ".join(strict.errors)
    assert "not published (strict): 1 open failed file(s)" in refusal and bad in refusal
    assert publish.served_snapshot_id(serving) == published
    page = (serving / publish.REPORT_FILE).read_text(encoding="utf-8")
    assert 'id="latest-refresh"' in page and "not published (strict)" in page
    assert 'id="failed-files-status"' in page  # the served snapshot's own banner stays


READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from revops.publish import connect_read_only, SNAPSHOT_TABLE
    served, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    def ask(con):
        sid = con.execute(f"select snapshot_id from {SNAPSHOT_TABLE}").fetchone()[0]
        con.execute("select sum(mrr), count(*) from mrr_by_month").fetchone()
        return sid
    held = connect_read_only(served)  # held open through the whole refresh
    first = ask(held)
    queries, errors = 0, []
    while not stop.exists():
        try:
            assert ask(held) == first, "a held connection changed snapshot"
            queries += 1
        except Exception as exc:
            errors.append(repr(exc))
        time.sleep(0.02)
    # DuckDB shares one database instance among a process's connections to a path: the
    # process sees the new snapshot once it has closed them all and connects again.
    held.close()
    again = connect_read_only(served)
    out.write_text(json.dumps(
        {"queries": queries, "errors": errors, "first": first, "reconnected": ask(again)}
    ))
    """
)


def _snapshot_consistent(serving: Path) -> str:
    """The served file is one complete snapshot: its tables hold what its sidecar recorded,
    and the served report describes it."""
    sid = publish.served_snapshot_id(serving)
    assert publish.report_snapshot_id(serving / publish.REPORT_FILE) == sid
    sidecar = json.loads((serving / publish.SNAPSHOT_DIR / f"{sid}.json").read_text())
    con = publish.connect_read_only(_served(serving))
    try:
        (inside,) = con.execute(f"select snapshot_id from {publish.SNAPSHOT_TABLE}").fetchone()
        assert inside == sid
        for name, rows in sidecar["tables"].items():
            assert con.execute(f'select count(*) from "{name}"').fetchone()[0] == rows, name
    finally:
        con.close()
    return sid


def test_daily_refreshes_survive_readers_and_kills_and_equal_one_refresh(
    xs_published, tmp_path, monkeypatch
):
    """Deliveries arrive day by day. Day N-1: a refresh of everything delivered so far. Day N:
    a refresh killed at a random point, then one that completes while a reader holds the
    served file open; the published marts equal those of the demo's single refresh over all
    days. Day N's publish updates its changed marts by their changed rows (at xs every mart is
    below DELTA_MIN_ROWS, lowered here), so the comparison also checks the delta end to end."""
    monkeypatch.setattr(publish, "DELTA_MIN_ROWS", 1)
    truth = xs_published["truth"]
    last = truth["generator"]["end_date"]
    days = sorted({p.name for p in (xs_published["landing"] / "salesforce" / "Lead").iterdir()})
    day_n1 = days[-2]
    assert days[-1] <= last
    landing, warehouse, serving = tmp_path / "landing", tmp_path / "wh.duckdb", tmp_path / "srv"

    link_deliveries_until(xs_published["landing"], landing, day_n1)
    first = run_refresh(landing, warehouse, serving, parse=False)
    assert first.ok, first.errors
    sid_first = _snapshot_consistent(serving)

    # Day N, first attempt: killed at a random point of the refresh.
    assert link_deliveries_until(xs_published["landing"], landing, last) > 0
    delay = random.Random(20261128).uniform(2.0, 0.9 * first.seconds)
    proc = subprocess.Popen(
        [sys.executable, "-m", "revops.cli", "refresh", "--landing", str(landing),
         "--warehouse", str(warehouse), "--serving", str(serving)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)  # the refresh and its dbt child
    proc.wait()
    assert _snapshot_consistent(serving) in {sid_first} | {
        s.snapshot_id for s in publish.list_snapshots(serving)
    }

    # Day N again, with a reader holding the served file open throughout.
    stop, report = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(_served(serving)), str(stop), str(report)], cwd=ROOT
    )
    try:
        time.sleep(1.0)
        second = run_refresh(landing, warehouse, serving, parse=False)
        assert second.ok, second.errors
        # the day's build was incremental: nothing made it rebuild from the raw tables
        run_results = json.loads(warehouse.with_name("dbt_run_results.json").read_text())
        assert not run_results["args"].get("full_refresh")
        sid_second = _snapshot_consistent(serving)
        assert second.published["marts_delta"] > 0, second.published
        time.sleep(0.5)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    seen = json.loads(report.read_text())
    assert seen["errors"] == [] and seen["queries"] > 10
    assert seen["first"] != sid_second  # the reader held the previous snapshot throughout
    assert seen["reconnected"] == sid_second  # and a new connection sees the new one
    assert _query(_served(serving), f"select snapshot_id from {publish.SNAPSHOT_TABLE}") == [
        (sid_second,)
    ]

    # The same marts as one refresh over every day.
    marts = [
        name
        for (name,) in _query(
            _served(serving),
            "select table_name from information_schema.tables where table_name not like "
            "'revops\\_%' escape '\\'",
        )
    ]
    assert len(marts) >= 15
    # Each object's latest load describes the loads, not the data: the last day's here, the
    # only load there (tests/test_incremental_equivalence.py LOAD_RECORDS).
    marts = [name for name in marts if name != "data_quality_quarantine_by_object"]
    daily = publish.table_checksums(_served(serving), marts)
    at_once = publish.table_checksums(_served(xs_published["serving"]), marts)
    assert daily == at_once


def test_an_incremental_model_whose_logic_changed_is_rebuilt_from_raw(xs_published, tmp_path):
    """The demo's warehouse records the logic its incremental models were built with. Make
    one record stale (as an edit of the model would): the next refresh, with no new files,
    rebuilds from the raw tables, records the current logic, and publishes the same marts."""
    from revops import incremental

    warehouse, serving = tmp_path / "wh.duckdb", tmp_path / "srv"
    shutil.copyfile(xs_published["warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as con:
        recorded = dict(
            con.execute(f"select model, fingerprint from {incremental.STATE_TABLE}").fetchall()
        )
        assert len(recorded) >= 9
        con.execute(
            f"update {incremental.STATE_TABLE} set fingerprint = 'stale' "
            "where model = 'stg_salesforce__leads'"
        )

    result = run_refresh(xs_published["landing"], warehouse, serving, parse=False)
    assert result.ok, result.errors
    run_results = json.loads(warehouse.with_name("dbt_run_results.json").read_text())
    assert run_results["args"].get("full_refresh") is True
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = dict(
            con.execute(f"select model, fingerprint from {incremental.STATE_TABLE}").fetchall()
        )
    assert after == recorded
    marts = [
        n
        for n in publish.table_checksums(_served(xs_published["serving"]))
        if not n.startswith("revops_")
    ]
    assert publish.table_checksums(_served(serving), marts) == publish.table_checksums(
        _served(xs_published["serving"]), marts
    )


def test_nothing_is_published_when_dbt_builds_into_spark(monkeypatch, tmp_path, dbt_manifest):
    import dagster as dg

    from orchestration.defs.ingestion.resources import LandingFolder, Warehouse
    from orchestration.defs.publish.assets import serving_snapshot
    from orchestration.defs.publish.resources import ServingFolder
    from orchestration.defs.transform.resources import OrgSettings

    monkeypatch.setenv("REVOPS_DBT_TARGET", "spark")
    result = dg.materialize(
        [serving_snapshot],
        resources={
            "warehouse": Warehouse(path=str(tmp_path / "warehouse.duckdb")),
            "landing": LandingFolder(path=str(tmp_path / "landing")),
            "serving": ServingFolder(path=str(tmp_path / "serving")),
            "settings_file": OrgSettings(),
        },
    )
    assert result.success
    assert result.get_asset_materialization_events() == []
    assert not (tmp_path / "serving" / publish.SERVING_FILE).exists()


def test_demo_headline_cac_is_the_documented_basis_or_incomplete(xs_published):
    """Issue 17: the newest month's headline CAC is fully loaded CAC (docs/METRICS.md) or is
    shown as incomplete, never paid-only CAC in its place; the latest complete month's fully
    loaded CAC is printed and named."""
    out = io.StringIO()
    cli.print_headline(xs_published["serving"].resolve(), Console(file=out, width=220))
    text = out.getvalue()
    served = _served(xs_published["serving"])
    newest, loaded, paid, complete = _query(
        served,
        "select month, cac_fully_loaded, cac_paid, is_complete from sales_ops_metrics "
        "where segment = 'All' and month <= "
        "(select date_trunc('month', latest_delivery_date) from revops_snapshot) "
        "order by month desc limit 1",
    )[0]
    lines = text.splitlines()
    # one row per metric, one column per month (the newest last)
    header = next(line for line in lines if f"{newest:%Y-%m}" in line)
    row = next(line for line in lines if line.startswith("│ CAC (fully loaded)"))
    cac_cell = [cell.strip() for cell in row.split("│")][-2]
    if complete:
        assert cac_cell == format_value(loaded, MONEY, "USD"), row
    else:
        assert f"{newest:%Y-%m} (partial)" in header, header
        assert cac_cell == "incomplete", row
        assert loaded is None  # the mart holds no value on another basis either
    if paid is not None and (loaded is None or f"{paid:,.0f}" != f"{loaded:,.0f}"):
        assert cac_cell != format_value(paid, MONEY, "USD"), row
    month, cac = _query(
        served,
        "select month, cac_fully_loaded from sales_ops_metrics "
        "where segment = 'All' and is_complete order by month desc limit 1",
    )[0]
    expected = f"CAC (fully loaded), latest complete month {month:%Y-%m}: "
    assert expected + format_value(cac, MONEY, "USD") in text
    # the xs demo's newest month lacks a day of deliveries and its expenses: incomplete
    assert not complete and month < newest
