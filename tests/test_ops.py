"""Running it every morning (issue 19): the no-op refresh, "data through", the run history and
`revops runs`, the per-run dbt logs, the alert hook (a local HTTP server on 127.0.0.1) and the
Dagster run-failure sensor, and freshness measured against the data. Unit-level: small
synthetic warehouses and tiny Dagster jobs; one no-op refresh of the session's `xs` company."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import shutil
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import dagster as dg
import duckdb
import pytest
from rich.console import Console

from revops import alerts, cli, freshness, noop, publish, runs
from revops.cli import main
from revops.ingest.warehouse import LEDGER_DDL, RAW_SCHEMA
from tests.publish_support import MART, fake_report, make_warehouse

ROOT = Path(__file__).resolve().parent.parent


# --- a local webhook --------------------------------------------------------------------------


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(
            {"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)}
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook():
    """A webhook on 127.0.0.1 in a thread: (url, the requests it received)."""
    handler = type("Hook", (_Hook,), {"received": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/revops-alert", handler.received
    finally:
        server.shutdown()
        server.server_close()


# --- tiny Dagster jobs instead of the build -------------------------------------------------


@dg.asset(
    check_specs=[dg.AssetCheckSpec("rows_match", asset="mart", blocking=True)],
)
def mart() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        check_results=[dg.AssetCheckResult(check_name="rows_match", passed=False)]
    )


@dg.asset(deps=[mart])
def downstream() -> None:
    pass


FAILING_JOB = dg.Definitions(
    assets=[mart, downstream],
    jobs=[dg.define_asset_job("refresh", executor_def=dg.in_process_executor)],
).resolve_job_def("refresh")


@dg.op
def fine() -> None:
    pass


@dg.job(executor_def=dg.in_process_executor)
def passing_job() -> None:
    fine()


@dg.op
def explode() -> None:
    raise ValueError("kaboom: the warehouse is not what it was")


@dg.job(executor_def=dg.in_process_executor)
def raising_job() -> None:
    explode()


def _fake_job(job):
    totals = {"objects_total": 0, "models_total": 0, "tests_total": 0}
    return lambda: (job, [], totals)


def _folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    landing = tmp_path / "landing"
    landing.mkdir()
    return landing, tmp_path / "wh" / "warehouse.duckdb", tmp_path / "serving"


# --- the alert hook ---------------------------------------------------------------------------


def test_the_alert_hook_is_called_once_per_failed_run_with_the_documented_payload(
    tmp_path, monkeypatch, webhook
):
    from revops import refresh

    url, received = webhook
    org = tmp_path / "org.toml"
    org.write_text(f'alert_webhook_url = "{url}"\n')
    monkeypatch.setenv("REVOPS_SETTINGS", str(org))
    monkeypatch.setattr(refresh, "_load_job", _fake_job(FAILING_JOB))
    landing, warehouse, serving = _folders(tmp_path)

    first = refresh.run_refresh(landing, warehouse, serving, parse=False)
    second = refresh.run_refresh(landing, warehouse, serving, parse=False)

    assert not first.ok and not second.ok
    assert [r["body"]["run_id"] for r in received] == [first.run_id, second.run_id]
    assert received[0]["path"] == "/revops-alert" and received[0]["type"] == "application/json"
    body = received[0]["body"]
    assert set(body) == {
        "kind", "version", "run_id", "outcome", "trigger", "started_at", "finished_at",
        "snapshot_id", "failed_checks", "warned_checks", "stale_sources", "open_failed_files",
        "errors", "freshness_as_of", "log_file",
    }  # fmt: skip
    assert (body["kind"], body["version"], body["outcome"]) == ("revops.refresh", 1, "failed")
    assert body["failed_checks"] == ["mart:rows_match"]
    assert body["snapshot_id"] is None and body["stale_sources"] == []
    assert body["trigger"] == "revops refresh" and Path(body["log_file"]).exists()
    assert first.alerts == [{"hook": "webhook", "ok": True, "detail": f"{url}: HTTP 204"}]
    # both runs are in the history, with the hook's answer
    history = runs.read(warehouse)
    assert [(r["run_id"], r["outcome"]) for r in history] == [
        (first.run_id, "failed"),
        (second.run_id, "failed"),
    ]
    assert history[0]["failed_checks"] == ["mart:rows_match"]
    assert history[0]["alerts"][0]["ok"] is True


def test_a_run_without_failures_or_warnings_calls_no_hook(tmp_path, monkeypatch, webhook):
    from revops import refresh

    url, received = webhook
    monkeypatch.setenv("REVOPS_ALERT_WEBHOOK_URL", url)
    monkeypatch.setattr(refresh, "_load_job", _fake_job(passing_job))
    landing, warehouse, serving = _folders(tmp_path)
    result = refresh.run_refresh(landing, warehouse, serving, parse=False)
    # nothing published (the tiny job has no publish step): a failed run, alerted once
    assert result.outcome == "failed" and len(received) == 1
    received.clear()
    body = refresh.alert_payload(result)
    assert body["failed_checks"] == [] and body["outcome"] == "failed"


def test_the_alert_command_gets_the_payload_on_stdin(tmp_path, monkeypatch):
    out = tmp_path / "alert.json"
    script = tmp_path / "hook.py"
    script.write_text(f"import sys\nopen({str(out)!r}, 'a').write(sys.stdin.read() + '\\n')\n")
    monkeypatch.setenv("REVOPS_ALERT_COMMAND", f"{sys.executable} {script}")
    body = alerts.payload(run_id="r1", outcome="warning", trigger="test", stale_sources=[])
    assert alerts.send(body) == [
        {"hook": "command", "ok": True, "detail": f"{sys.executable} {script}: exit 0"}
    ]
    assert [json.loads(line) for line in out.read_text().splitlines()] == [body]
    monkeypatch.setenv("REVOPS_ALERT_COMMAND", f"{sys.executable} -c 'raise SystemExit(3)'")
    (sent,) = alerts.send(body)
    assert not sent["ok"] and "exit 3" in sent["detail"]  # reported, never raised


def test_the_run_failure_sensor_alerts_once_for_a_scheduled_run(monkeypatch, webhook):
    from orchestration.defs.alerts.sensors import build_failure_sensor

    url, received = webhook
    monkeypatch.setenv("REVOPS_ALERT_WEBHOOK_URL", url)
    sensor = build_failure_sensor(jobs=[FAILING_JOB])
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING  # it never launches a run
    with dg.DagsterInstance.ephemeral() as instance:
        for tags in ({}, {"revops/alerts": "sent"}):  # scheduled; then run by `revops refresh`
            result = FAILING_JOB.execute_in_process(
                instance=instance, raise_on_error=False, tags=tags
            )
            run = instance.get_run_by_id(result.run_id)
            failure = next(e for e in result.all_events if e.is_failure)
            context = dg.build_run_status_sensor_context(
                sensor_name=sensor.name,
                dagster_event=failure,
                dagster_instance=instance,
                dagster_run=run,
            ).for_run_failure()
            sensor(context)
        first_run = instance.get_runs()[-1]
    assert len(received) == 1  # the CLI's own run is not alerted twice
    body = received[0]["body"]
    assert body["run_id"] == first_run.run_id and body["trigger"] == "dagster"
    assert body["outcome"] == "failed" and body["failed_checks"] == ["mart:rows_match"]


# --- the run history and `revops runs` --------------------------------------------------------


def _record(run_id: str, outcome: str, **extra) -> dict:
    base = {
        "run_id": run_id,
        "started_at": "2026-12-01T06:00:00+00:00",
        "finished_at": "2026-12-01T06:01:00+00:00",
        "seconds": 60.0,
        "outcome": outcome,
        "counts": {"files_loaded": 3, "rows_loaded": 120, "checks_passed": 10,
                   "checks_failed": 0, "checks_warned": 1},
        "failed_checks": [],
        "stale_sources": [],
        "errors": [],
        "snapshot_id": None,
        "log_file": None,
    }  # fmt: skip
    return {**base, **extra}


def test_revops_runs_shows_the_last_runs_with_their_outcomes(tmp_path):
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    runs.append(warehouse, _record("aaaa1111", "published", snapshot_id="20261201T060100Z-a"))
    runs.append(warehouse, _record("bbbb2222", "no-op", served_snapshot="20261201T060100Z-a"))
    runs.append(
        warehouse,
        _record("cccc3333", "failed", failed_checks=["fct_x:unique_id"],
                stale_sources=["stripe/charges"]),
    )  # fmt: skip
    assert runs.history_path(warehouse) == tmp_path / "data" / "runs" / "history.jsonl"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["runs", "--warehouse", str(warehouse), "--last", "2"])
    text = out.getvalue()
    assert code == 1  # the latest run failed
    assert "aaaa1111" not in text  # only the last two
    assert text.index("bbbb2222") < text.index("cccc3333")
    assert "no-op" in text and "failed" in text
    assert "latest run, failed check: fct_x:unique_id" in text
    assert "latest run, stale sources: stripe/charges" in text
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["runs", "--warehouse", str(warehouse), "--json"]) == 1
    assert [json.loads(x)["outcome"] for x in out.getvalue().splitlines()] == [
        "published", "no-op", "failed"
    ]  # fmt: skip
    # a torn last line (a run killed while writing) is shown, not fatal
    with open(runs.history_path(warehouse), "a") as handle:
        handle.write('{"run_id": "dddd')
    assert runs.read(warehouse)[-1] == {"outcome": "unreadable", "line": 4}
    empty = tmp_path / "other" / "warehouse.duckdb"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["runs", "--warehouse", str(empty)]) == 0


def test_run_logs_are_timestamped_without_colours_and_bounded(tmp_path):
    handle = io.StringIO()
    log = runs.TimestampedLog(handle)
    log.write("\x1b[32m1 of 2 OK\x1b[0m created model\n2 of 2 ")
    log.write("START\r\n")
    log.write("tail without newline")
    log.close()
    lines = handle.getvalue().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "1 of 2 OK created model", "2 of 2 START", "tail without newline"
    ]  # fmt: skip
    for line in lines:
        stamp = line.split(" ", 1)[0]
        assert stamp.endswith("Z") and dt.datetime.fromisoformat(stamp[:-1])
    warehouse = tmp_path / "warehouse.duckdb"
    folder = runs.runs_dir(warehouse) / runs.LOGS_DIR
    folder.mkdir(parents=True)
    for day in range(1, 6):
        (folder / f"2026120{day}T060000Z-run{day}.log").write_text("x")
    removed = runs.prune_logs(warehouse, 3)
    assert [p.name for p in removed] == ["20261201T060000Z-run1.log", "20261202T060000Z-run2.log"]
    assert sorted(p.name[:9] for p in folder.iterdir()) == ["20261203T", "20261204T", "20261205T"]


def test_a_failure_prints_the_summary_first_and_the_traceback_only_when_verbose(
    tmp_path, monkeypatch
):
    from revops import refresh

    monkeypatch.setattr(refresh, "ensure_manifest", lambda: None)
    landing, warehouse, serving = _folders(tmp_path)
    texts = {}
    for job, verbose in ((FAILING_JOB, False), (raising_job, False), (raising_job, True)):
        monkeypatch.setattr(refresh, "_load_job", _fake_job(job))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            result = cli.run_refresh(
                landing, warehouse, serving, Console(file=out, width=160), verbose=verbose
            )
        assert not result.ok
        texts[(job.name, verbose)] = out.getvalue() + err.getvalue()
    checked = texts[(FAILING_JOB.name, False)]
    assert "not published: no snapshot is served yet" in checked  # never "stays served"
    assert "stays served" not in checked
    assert "failed check: rows_match" in checked
    log = checked.split("dbt output: ")[1].split()[0]
    assert Path(log).exists()  # every path printed exists
    quiet, loud = texts[("raising_job", False)], texts[("raising_job", True)]
    assert "error: explode: ValueError: kaboom: the warehouse" in " ".join(quiet.split())
    frame = 'test_ops.py", line'  # a frame of the stack, where `explode` raised
    assert frame not in quiet and "--verbose prints the traceback" in quiet
    assert loud.index("Refresh") < loud.index("error: explode") < loud.index(frame)


# --- no-op refresh ----------------------------------------------------------------------------


def _ledgered(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A landing folder with one delivery file, a warehouse whose ledger knows it, one mart,
    and a serving folder with the snapshot published from them."""
    landing, warehouse, serving = _folders(tmp_path)
    warehouse.parent.mkdir()
    make_warehouse(warehouse)
    day = landing / "stripe" / "charges" / "2026-12-01"
    day.mkdir(parents=True)
    delivered = day / "charges.csv"
    delivered.write_text("id\nch_1\n")
    stat = delivered.stat()
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(f"create schema {RAW_SCHEMA}")
        con.execute(LEDGER_DDL)
        con.execute(
            "insert into raw._load_ledger (load_id, source, object, raw_table, file_path, "
            "delivery_date, file_sha256, file_bytes, file_mtime_ns, status, is_new_version, "
            "rows_loaded, rows_rejected, started_at, finished_at) values ('l1', 'stripe', "
            "'charges', 'stripe__charges', 'stripe/charges/2026-12-01/charges.csv', "
            "'2026-12-01', 'sha', ?, ?, 'loaded', false, 1, 0, now(), now())",
            [stat.st_size, stat.st_mtime_ns],
        )
    finally:
        con.close()
    publish.publish_snapshot(warehouse, serving, [MART], run_id="r1", report=fake_report,
                             freshness_as_of=dt.date(2026, 12, 3))  # fmt: skip
    return landing, warehouse, serving


def test_no_op_needs_the_same_project_ledger_and_landing_files(tmp_path, monkeypatch):
    landing, warehouse, serving = _ledgered(tmp_path)
    (snap,) = publish.list_snapshots(serving)
    assert set(snap.fingerprint) == {"project", "ledger"}
    verdict = noop.check(landing, warehouse, serving, dt.date(2026, 12, 3))
    assert verdict.unchanged, verdict.reason
    # stripe/charges delivered 2026-12-01: 2 days behind 2026-12-03, not more: fresh; every
    # other required object never delivered: stale
    stale = {s.folder for s in verdict.stale_sources}
    assert "stripe/charges" not in stale and "salesforce/Lead" in stale

    # a setting changes
    monkeypatch.setenv("REVOPS_GROSS_MARGIN", "0.5")
    assert "settings" in noop.check(landing, warehouse, serving).reason
    monkeypatch.delenv("REVOPS_GROSS_MARGIN")
    assert noop.check(landing, warehouse, serving).unchanged
    # an upload in progress (a dot file) is not a delivery yet
    (landing / "stripe" / "charges" / "2026-12-01" / ".charges2.csv.part").write_text("id\n")
    assert noop.check(landing, warehouse, serving).unchanged
    # a file arrives in the landing folder
    new = landing / "stripe" / "charges" / "2026-12-02" / "charges.csv"
    new.parent.mkdir()
    new.write_text("id\nch_2\n")
    verdict = noop.check(landing, warehouse, serving)
    assert not verdict.unchanged and "stripe/charges/2026-12-02/charges.csv" in verdict.reason
    new.unlink()
    # a file is loaded behind the snapshot's back (`revops ingest`)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("update raw._load_ledger set status = 'failed', error = 'x'")
    finally:
        con.close()
    assert "loaded or removed" in noop.check(landing, warehouse, serving).reason


def test_the_daily_schedule_skips_a_tick_when_nothing_changed(tmp_path):
    """`refresh_daily` makes the no-op check before asking for a run: a tick with nothing new
    is skipped with the reason; a new landing file, or no served snapshot, starts the run."""
    import dagster as dg

    from orchestration.defs.ingestion.resources import LandingFolder, Warehouse
    from orchestration.defs.publish.resources import ServingFolder
    from orchestration.defs.publish.schedules import NOOP_TAG, build_refresh_schedule

    landing, warehouse, serving = _ledgered(tmp_path)
    schedule = build_refresh_schedule(dg.define_asset_job("refresh"))

    def tick(serving_path: Path = serving):
        resources = {
            "landing": LandingFolder(path=str(landing)),
            "warehouse": Warehouse(path=str(warehouse)),
            "serving": ServingFolder(path=str(serving_path)),
        }
        with dg.build_schedule_context(resources=resources) as context:
            return schedule(context)

    skipped = tick()
    assert isinstance(skipped, dg.SkipReason), skipped
    assert "nothing changed since snapshot" in skipped.skip_message
    assert "stale sources: " in skipped.skip_message  # never-delivered objects, here
    new = landing / "stripe" / "charges" / "2026-12-02" / "charges.csv"
    new.parent.mkdir()
    new.write_text("id\nch_2\n")
    started = tick()
    assert isinstance(started, dg.RunRequest), started
    assert "stripe/charges/2026-12-02/charges.csv" in started.tags[NOOP_TAG]
    new.unlink()
    assert isinstance(tick(), dg.SkipReason)
    first = tick(tmp_path / "no-serving-yet")
    assert isinstance(first, dg.RunRequest) and "no snapshot" in first.tags[NOOP_TAG]


def test_snapshots_record_data_through_and_rollback_list_shows_it(tmp_path):
    _, _, serving = _ledgered(tmp_path)
    (snap,) = publish.list_snapshots(serving)
    assert snap.data_through["stripe/charges"] == "2026-12-01"
    assert snap.data_through["salesforce/Lead"] is None
    assert snap.data_through_date == "2026-12-01"
    assert snap.freshness_as_of == "2026-12-03" and "stripe/charges" not in snap.stale_sources
    con = publish.connect_read_only(serving / publish.SERVING_FILE)
    try:
        row = con.execute(
            "select days_behind, is_stale from revops_sources where object = 'charges'"
        ).fetchone()
    finally:
        con.close()
    assert row == (2, False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["rollback", "--serving", str(serving), "--list"]) == 0
    text = " ".join(out.getvalue().split())
    assert "data through" in text and "2026-12-01 (" in text
    # the sources the snapshot was published with as stale (never delivered, here)
    assert cli._data_through(snap).startswith(f"2026-12-01 ({len(snap.stale_sources)} stale: ")


def test_a_no_op_refresh_of_the_served_company_publishes_nothing_in_seconds(xs_published, tmp_path):
    """`revops refresh` with nothing new since `revops demo`: exit 0 in seconds, nothing built
    or published, and the history says so. (Measured by hand at `s`: docs/SERVING.md.)"""
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    shutil.copyfile(xs_published["warehouse"], warehouse)
    shutil.copytree(xs_published["serving"], serving, symlinks=True)
    before = [s.snapshot_id for s in publish.list_snapshots(serving)]
    out = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out):
        code = main(
            ["refresh", "--landing", str(xs_published["landing"]), "--warehouse",
             str(warehouse), "--serving", str(serving)]
        )  # fmt: skip
    seconds = time.monotonic() - started
    text = " ".join(out.getvalue().split())
    assert code == 0, text
    assert "Nothing to do: nothing changed since snapshot" in text
    assert seconds < 10
    assert [s.snapshot_id for s in publish.list_snapshots(serving)] == before
    assert publish.served_snapshot_id(serving) == before[-1]
    (record,) = runs.read(warehouse)
    assert record["outcome"] == "no-op" and record["served_snapshot"] == before[-1]
    # the demo's own run is in the demo's history, with its dbt log kept
    (demo,) = runs.read(xs_published["warehouse"])
    assert demo["outcome"] == "published" and Path(demo["log_file"]).exists()
    assert "\x1b[" not in Path(demo["log_file"]).read_text()


# --- freshness against the data ---------------------------------------------------------------


def test_staleness_is_measured_against_the_newest_delivery_not_the_clock(tmp_path):
    landing = tmp_path / "landing"
    for folder in ("salesforce/Lead/2024-03-01", "stripe/charges/2024-03-04", "nope/x/2030-01-01"):
        (landing / folder).mkdir(parents=True)
    (landing / "stripe" / "charges" / "not-a-date").mkdir()
    assert freshness.newest_delivery(landing) == dt.date(2024, 3, 4)  # unknown folders ignored
    assert freshness.reference_date(landing) == dt.date(2024, 3, 4)
    assert freshness.reference_date(landing, "2024-03-10") == dt.date(2024, 3, 10)
    latest = {
        "salesforce/Lead": dt.date(2024, 3, 1),  # 3 days behind 2024-03-04: stale
        "salesforce/Account": dt.date(2024, 3, 2),  # 2 days: not more than 2, fresh
        "stripe/charges": dt.date(2024, 3, 4),
        "stripe/refunds": None,  # never delivered: stale
        "salesforce/OpportunityStage": None,  # optional: never stale
    }
    stale = freshness.stale_sources(latest, dt.date(2024, 3, 4), 2)
    assert [(s.folder, s.days_behind) for s in stale] == [
        ("salesforce/Lead", 3), ("stripe/refunds", None)
    ]  # fmt: skip
    # no delivery in the landing folder: only what never delivered is stale
    assert [s.folder for s in freshness.stale_sources(latest, None, 2)] == ["stripe/refunds"]
    assert freshness.warning_line(stale, dt.date(2024, 3, 4), 2) == (
        "2 source(s) more than 2 day(s) (or their contract cadence, or their own longest gap "
        "between deliveries) behind the newest delivery (2024-03-04): "
        "salesforce/Lead (latest 2024-03-01, 3 days behind), "
        "stripe/refunds (never delivered)"
    )
    # an incremental export delivers on days something changed: judged by its own rhythm
    rhythms = {
        "salesforce/Lead": freshness.Rhythm(dt.date(2024, 3, 1), 40, 3),  # 3 <= gap 3: fresh
        "stripe/refunds": freshness.Rhythm(None, 0, None),
    }
    stale = freshness.stale_sources(latest, dt.date(2024, 3, 4), 2, rhythms)
    assert [s.folder for s in stale] == ["stripe/refunds"]
    # the contract's delivery cadence is a floor too: quotas arrive once a quarter (100 days)
    quotas = {"reference/quotas": dt.date(2024, 1, 1)}
    assert freshness.cadence_days("reference/quotas") == 100
    assert not freshness.stale_sources(quotas, dt.date(2024, 4, 10), 2)  # 100 days behind
    assert [s.days_behind for s in freshness.stale_sources(quotas, dt.date(2024, 4, 11), 2)] == [
        101
    ]
    once = {"stripe/coupons": freshness.Rhythm(dt.date(2023, 1, 1), 1, None)}
    assert freshness.stale_sources({"stripe/coupons": dt.date(2023, 1, 1)}, dt.date(2024, 3, 4),
                                   2, once) == []  # fmt: skip


def test_the_cli_and_the_report_name_the_same_stale_sources(tmp_path):
    """A no-op's CLI warning and the served snapshot's report section, from one rule."""
    from types import SimpleNamespace

    from revops.refresh import RefreshResult
    from revops.report.build import _freshness_html
    from revops.report.data import query

    landing, warehouse, serving = _ledgered(tmp_path)
    verdict = noop.check(landing, warehouse, serving, dt.date(2026, 12, 3))
    result = RefreshResult(ok=True, run_id="x", seconds=0.0)
    result.stale_sources, result.freshness_as_of = verdict.stale_sources, verdict.reference
    out = io.StringIO()
    cli._print_stale(result, Console(file=out, width=10_000))
    printed = out.getvalue().strip().removeprefix("warning: ")
    assert printed == freshness.warning_line(verdict.stale_sources, dt.date(2026, 12, 3), 2)
    assert "salesforce/Lead (never delivered)" in printed and "stripe/charges" not in printed

    con = publish.connect_read_only(serving / publish.SERVING_FILE)
    try:
        (snap,) = query(con, f"select * from {publish.SNAPSHOT_TABLE}")
        sources = query(con, f"select * from {publish.SOURCES_TABLE} order by source, object")
    finally:
        con.close()
    data = SimpleNamespace(
        snapshot=snap, sources=sources, failed_files=[], quarantine_open=0, quarantine=[],
        checks=[],
    )  # fmt: skip
    page = _freshness_html(data)
    from html import escape

    assert f'<div class="banner problem" id="freshness-stale">{escape(printed)}</div>' in page


# --- progress and failure output ---------------------------------------------------------------


def test_progress_is_plain_lines_with_counts_when_not_a_terminal():
    from revops.refresh import DBT, INGEST, PUBLISH, Progress

    out = io.StringIO()
    with cli._RefreshProgress(Console(file=out, width=160)) as shown:
        p = Progress(objects_total=2, models_total=3, tests_total=4)
        shown(p)
        p.objects_done, p.files_loaded = 2, 5
        p.finished.add(INGEST)
        p.stage = DBT
        shown(p)
        p.models_done, p.tests_done = 3, 3
        p.failed.add(DBT)
        p.finished.add(DBT)
        shown(p)
    lines = [line.split(" ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines == [
        "ingest: started",
        "ingest: done, 2/2 objects, 5 files loaded",
        "dbt build: started",
        "dbt build: failed, 3/3 models, 3/4 tests",
    ]
    assert PUBLISH not in " ".join(lines)


def test_error_paths_that_no_longer_exist_point_at_the_kept_log(tmp_path):
    from revops.refresh import _existing_paths

    kept = tmp_path / "runs" / "logs" / "run.log"
    real = tmp_path / "dbt.log"
    real.write_text("x")
    message = f"dbt failed; see /gone/target/build-1a2b/dbt.log and {real} for details"
    assert _existing_paths(message, kept) == (f"dbt failed; see {kept} and {real} for details")


def test_a_progress_display_that_breaks_never_fails_the_run(tmp_path, monkeypatch):
    """`revops refresh | head -5`: the pipe closes mid-run; the run goes on and publishes."""
    from revops import refresh

    monkeypatch.setattr(refresh, "_load_job", _fake_job(passing_job))
    landing, warehouse, serving = _folders(tmp_path)
    calls = []

    def broken(progress) -> None:
        calls.append(progress.stage)
        raise BrokenPipeError(32, "Broken pipe")

    result = refresh.run_refresh(landing, warehouse, serving, parse=False, progress=broken)
    assert calls == ["ingest"]  # called once, then left alone
    assert result.failed_steps == [] and result.errors == []


def test_the_code_location_has_the_failure_sensor_on_the_refresh_job(dbt_manifest):
    from orchestration.definitions import defs

    sensor = defs.resolve_sensor_def("refresh_failure_alert")
    assert isinstance(sensor, dg.RunStatusSensorDefinition)  # reads runs, launches nothing
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert "alert hook" in sensor.description
