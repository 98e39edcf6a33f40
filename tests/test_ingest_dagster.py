"""The ingestion's Dagster wiring: assets materialize in-process, a failed file fails only its
asset, the sensor and schedule request the right runs, and the code location loads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.ingestion import assets as ingestion
from orchestration.defs.ingestion.assets import (
    FRESHNESS_CHECK,
    LAST_UPDATED,
    LOCK_ERROR,
    RECONCILED_CHECK,
    UNRESOLVED_CHECK,
    WAREHOUSE_POOL,
    IngestConfig,
    asset_key,
    build_ingestion_asset,
    ingestion_assets,
)
from orchestration.defs.ingestion.resources import LandingFolder, Warehouse
from orchestration.defs.ingestion.schedules import build_ingestion_schedule
from orchestration.defs.ingestion.sensors import build_landing_sensor
from orchestration.project import REPO_ROOT
from revops import contract
from revops.ingest import ingest_object
from tests.ingest_support import DAY, DAY2, deliver, ledger, obj, query, write

LEAD = "salesforce/Lead"
CUSTOMERS = "stripe/customers"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture
def resources(landing: Path, tmp_path: Path) -> dict[str, object]:
    return {
        "landing": LandingFolder(path=str(landing)),
        "warehouse": Warehouse(path=str(tmp_path / "warehouse.duckdb")),
    }


def _materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, object]]:
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        out[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return out


def test_ingestion_assets_materialize_in_process(landing: Path, resources: dict, tmp_path: Path):
    deliver(landing, LEAD, n=3)
    deliver(landing, CUSTOMERS, n=2)
    opened = ingestion._SHARED.opened

    result = dg.materialize(ingestion_assets, resources=resources)

    assert result.success
    mats = _materializations(result)
    assert set(mats) == {asset_key(o).to_user_string() for o in contract.OBJECTS}
    lead = mats["salesforce/lead"]
    assert (lead["files_loaded"], lead["rows_loaded"], lead["dagster/row_count"]) == (1, 3, 3)
    assert mats["stripe/customers"]["rows_loaded"] == 2
    # what the freshness checks read: when rows arrived (none for an object never delivered)
    loaded_at = query(
        tmp_path / "warehouse.duckdb", "select max(_loaded_at) from raw.salesforce__lead"
    )
    assert lead[LAST_UPDATED] == loaded_at[0][0].timestamp()
    assert LAST_UPDATED not in mats["stripe/invoices"]
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks[UNRESOLVED_CHECK] and checks[RECONCILED_CHECK]
    assert set(checks) == {UNRESOLVED_CHECK, RECONCILED_CHECK, FRESHNESS_CHECK}
    assert query(tmp_path / "warehouse.duckdb", "select count(*) from raw.salesforce__lead") == [
        (3,)
    ]
    # the run's 34 steps shared one connection, closed after the last (the query above opened
    # the file read-only, which a connection still open in this process would refuse)
    assert ingestion._SHARED.opened == opened + 1 and not ingestion._SHARED.is_open
    scans = {
        e.asset_key.to_user_string(): (
            e.metadata["raw_scan"].value,
            e.metadata["raw_rows_scanned"].value,
            e.metadata["full_scan_reason"].value,
        )
        for e in result.get_asset_check_evaluations()
        if e.check_name == RECONCILED_CHECK
    }
    assert scans["salesforce/lead"] == ("full", 3, "no passing check recorded")

    # the next run: nothing new for the customers (carried), 2 new rows of leads
    deliver(landing, LEAD, "2025-03-02", n=2, start=10)
    lead_and_customers = [a for a in ingestion_assets if a.key in {asset_key(obj(LEAD)),
                          asset_key(obj(CUSTOMERS))}]  # fmt: skip
    again = dg.materialize(lead_and_customers, resources=resources)
    scans = {
        e.asset_key.to_user_string(): (e.passed, e.metadata["raw_scan"].value,
                                       e.metadata["raw_rows_scanned"].value,
                                       e.metadata["raw_rows"].value)
        for e in again.get_asset_check_evaluations()
        if e.check_name == RECONCILED_CHECK
    }  # fmt: skip
    assert scans == {
        "salesforce/lead": (True, "new rows", 2, 5),
        "stripe/customers": (True, "carried", 0, 2),
    }


def _unresolved_check(result: dg.ExecuteInProcessResult, folder: str):
    (check,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == asset_key(obj(folder)) and e.check_name == UNRESOLVED_CHECK
    ]
    return check


def test_a_failed_file_warns_on_every_run_until_a_corrected_file_loads(
    landing: Path, resources: dict
):
    """The failed-file policy: the asset materializes (its good files loaded), and its check
    warns with the file and its error, on this run and every later one, until a corrected
    file arrives."""
    columns = [c for c in obj(LEAD).column_names if c != "Status"]
    bad = f"{LEAD}/{DAY}/Lead.csv"
    write(landing, LEAD, DAY, "Lead.csv", ",".join(columns).encode() + b"\n")
    deliver(landing, LEAD, DAY2, n=2)
    deliver(landing, CUSTOMERS, n=2)
    selected = [build_ingestion_asset(obj(LEAD)), build_ingestion_asset(obj(CUSTOMERS))]
    warehouse = Path(resources["warehouse"].path)

    outcomes = []
    for config in (None, None, IngestConfig(retry_failed=True)):
        run_config = dg.RunConfig({"salesforce__lead": config}) if config else None
        result = dg.materialize(selected, resources=resources, run_config=run_config)
        assert result.success  # a failed file fails no step
        mats = _materializations(result)
        check = _unresolved_check(result, LEAD)
        outcomes.append(
            (mats["salesforce/lead"]["files_failed"], mats["salesforce/lead"]["dagster/row_count"],
             check.passed, check.severity, check.metadata["unresolved_files"].value)
        )  # fmt: skip
        assert f"{bad}: missing required column(s) Status" in check.metadata["errors"].value
        assert check.description.startswith("1 open failed file(s): " + bad)
    # first run: failed now; second: unchanged, not read again; third: retried, failed again
    warn = dg.AssetCheckSeverity.WARN
    assert outcomes == [(1, 2, False, warn, 1), (0, 2, False, warn, 1), (1, 2, False, warn, 1)]
    assert [r["status"] for r in ledger(warehouse, bad)] == ["failed", "failed"]
    spec = next(s for s in selected[0].check_specs if s.name == UNRESOLVED_CHECK)
    assert not spec.blocking

    write(landing, LEAD, DAY, "Lead.csv", (landing / LEAD / DAY2 / "Lead.csv").read_bytes())
    fixed = dg.materialize(selected, resources=resources)
    assert _unresolved_check(fixed, LEAD).passed  # a later duplicate row resolves it
    assert [r["status"] for r in ledger(warehouse, bad)][-1] == "duplicate"


def test_the_landing_folder_check_warns_about_unknown_folders(landing: Path, resources: dict):
    deliver(landing, LEAD)
    (landing / "pipedrive" / "deals").mkdir(parents=True)
    (landing / "salesforce" / "Leads").mkdir()
    result = dg.materialize([ingestion.landing_folder], resources=resources)
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == ingestion.UNKNOWN_CHECK and not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["paths"].value == "pipedrive/\nsalesforce/Leads/"
    assert "salesforce/Leads/ is not an object of the export contract" in check.description

    for path in (landing / "pipedrive", landing / "salesforce" / "Leads"):
        shutil.rmtree(path)
    (again,) = dg.materialize(
        [ingestion.landing_folder], resources=resources
    ).get_asset_check_evaluations()
    assert again.passed


def test_an_optional_object_never_delivered_passes_its_freshness_check(resources: dict):
    folders = ("salesforce/OpportunityStage", "salesforce/Account")
    selected = [build_ingestion_asset(obj(f)) for f in folders]

    result = dg.materialize(selected, resources=resources)

    assert result.success
    freshness = {
        e.asset_key.to_user_string(): e
        for e in result.get_asset_check_evaluations()
        if e.check_name == FRESHNESS_CHECK
    }
    stage, account = freshness["salesforce/opportunitystage"], freshness["salesforce/account"]
    assert stage.passed and stage.metadata["status"].value == "not delivered (optional)"
    assert not account.passed and account.metadata["status"].value == "missing"
    assert account.severity == dg.AssetCheckSeverity.WARN
    spec = next(iter(selected[0].specs))
    assert "Optional object" in spec.description and spec.metadata["optional"] is True


def test_every_object_has_an_asset_keyed_like_its_dbt_source():
    by_key = {a.key: a for a in ingestion_assets}
    assert set(by_key) == {dg.AssetKey([o.source, o.name.lower()]) for o in contract.OBJECTS}
    for asset in ingestion_assets:
        spec = next(iter(asset.specs))
        assert spec.group_name == "ingestion"
        assert asset.op.pool == WAREHOUSE_POOL
        policy = asset.op.retry_policy
        assert policy.max_retries >= 3 and policy.backoff == dg.Backoff.EXPONENTIAL


def test_lock_errors_are_retried_and_file_errors_are_not(resources: dict, monkeypatch):
    # The real policy waits 5 s and more between attempts; the behaviour is the same without.
    monkeypatch.setattr(ingestion, "LOCK_RETRY_POLICY", dg.RetryPolicy(max_retries=2))
    errors = iter(
        [duckdb.IOException(f'IO Error: {LOCK_ERROR} "w.duckdb": Conflicting lock is held')]
    )

    def locked_once(*args, **kwargs):
        raise next(errors, duckdb.InvalidInputException("not a lock problem"))

    monkeypatch.setattr(ingestion, "ingest_object", locked_once)
    result = dg.materialize(
        [build_ingestion_asset(obj(LEAD))], resources=resources, raise_on_error=False
    )

    kinds = [e.event_type_value for e in result.all_events if e.step_key]
    assert kinds.count("STEP_UP_FOR_RETRY") == 1  # the lock error, and only that one
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "not a lock problem" in failure.event_specific_data.error.message


def test_a_warehouse_held_by_another_process_raises_the_lock_error(landing: Path, tmp_path: Path):
    """The error text the retry policy keys on, as DuckDB 2.0.1 words it."""
    warehouse = tmp_path / "held.duckdb"
    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(60)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException, match=LOCK_ERROR):
            ingest_object(landing, warehouse, LEAD)
    finally:
        holder.kill()
        holder.wait()


def test_sensor_requests_runs_for_changed_object_folders(landing: Path):
    sensor = build_landing_sensor(settle_seconds=0)
    res = {"landing": LandingFolder(path=str(landing))}

    def tick(cursor: str | None) -> dg.SensorResult:
        return sensor(dg.build_sensor_context(cursor=cursor, resources=res))

    empty = tick(None)
    assert not empty.run_requests and "no new delivery files" in empty.skip_reason.skip_message

    deliver(landing, LEAD)
    deliver(landing, CUSTOMERS)
    first = tick(empty.cursor)
    (request,) = first.run_requests
    assert set(request.asset_selection) == {asset_key(obj(LEAD)), asset_key(obj(CUSTOMERS))}
    assert set(json.loads(first.cursor)) == {LEAD, CUSTOMERS}

    assert not tick(first.cursor).run_requests  # nothing changed

    deliver(landing, CUSTOMERS, DAY2)
    second = tick(first.cursor)
    (request,) = second.run_requests
    assert request.asset_selection == [asset_key(obj(CUSTOMERS))]
    assert request.run_key != first.run_requests[0].run_key


def test_sensor_waits_for_files_to_settle(landing: Path):
    sensor = build_landing_sensor(settle_seconds=3600)
    res = {"landing": LandingFolder(path=str(landing))}
    deliver(landing, LEAD)
    result = sensor(dg.build_sensor_context(resources=res))
    assert not result.run_requests
    assert "1 file(s) still settling" in result.skip_reason.skip_message
    old = time.time() - 7200
    for path in landing.rglob("*.csv"):
        os.utime(path, (old, old))
    (request,) = sensor(dg.build_sensor_context(resources=res)).run_requests
    # The run it asks for leaves still-settling files alone as well.
    assert request.run_config["ops"]["salesforce__lead"]["config"]["min_age_seconds"] == 3600


def test_sensor_skips_a_missing_landing_folder(tmp_path: Path):
    sensor = build_landing_sensor()
    res = {"landing": LandingFolder(path=str(tmp_path / "nope"))}
    result = sensor(dg.build_sensor_context(resources=res))
    assert "does not exist" in result.skip_reason.skip_message


def test_daily_schedule_defaults_to_six_utc_and_takes_a_cron():
    default = build_ingestion_schedule()
    assert (default.cron_schedule, default.execution_timezone) == ("0 6 * * *", "UTC")
    assert default.job_name == "ingest_landing"
    assert build_ingestion_schedule("30 2 * * 1-5").cron_schedule == "30 2 * * 1-5"


def test_resources_resolve_config_then_environment_then_default(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("REVOPS_LANDING", raising=False)
    monkeypatch.delenv("REVOPS_WAREHOUSE", raising=False)
    assert LandingFolder().resolve() == REPO_ROOT / "data" / "landing"
    assert Warehouse().resolve() == REPO_ROOT / "data" / "warehouse.duckdb"
    monkeypatch.setenv("REVOPS_LANDING", str(tmp_path / "in"))
    monkeypatch.setenv("REVOPS_WAREHOUSE", "elsewhere/w.duckdb")
    assert LandingFolder().resolve() == tmp_path / "in"
    assert Warehouse().resolve() == REPO_ROOT / "elsewhere" / "w.duckdb"
    assert LandingFolder(path="/data/x").resolve() == Path("/data/x")


def test_code_location_loads_with_dbt_and_ingestion(monkeypatch, dbt_manifest: Path):
    # Loading the definitions must not read the environment (nothing may depend on it here).
    monkeypatch.delenv("REVOPS_LANDING", raising=False)
    from orchestration.definitions import defs

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    assert {asset_key(o) for o in contract.OBJECTS} <= keys
    assert dg.AssetKey("util_months") in keys  # the dbt models are still there
    assert defs.resolve_job_def("ingest_landing") is not None
    assert defs.resolve_sensor_def("landing_folder_sensor") is not None
    assert defs.resolve_schedule_def("refresh_daily").job_name == "refresh"
    assert defs.resolve_job_def("refresh") is not None
    dbt = next(a for a in defs.resolve_all_asset_specs() if a.key == dg.AssetKey("util_months"))
    assert dbt.group_name != "ingestion"


def test_a_bad_recheck_setting_makes_the_reconciliation_read_every_row(
    landing: Path, resources: dict, monkeypatch
):
    """`test_full_recheck_days` is a setting of the dbt step too, which fails on a bad value;
    the ingestion still loads, warns, and reads every raw row (0 days)."""
    deliver(landing, LEAD, n=3)
    lead = [build_ingestion_asset(obj(LEAD))]
    dg.materialize(lead, resources=resources)
    monkeypatch.setenv("REVOPS_TEST_FULL_RECHECK_DAYS", "weekly")

    result = dg.materialize(lead, resources=resources)

    (check,) = [e for e in result.get_asset_check_evaluations() if e.check_name == RECONCILED_CHECK]
    assert check.passed
    assert (check.metadata["raw_scan"].value, check.metadata["full_scan_reason"].value) == (
        "full", "last full check 0+ day(s) ago"
    )  # fmt: skip


def test_a_shared_connection_left_open_is_closed_before_dbt(tmp_path):
    """A run's ingestion steps share one connection, closed when the last listed step releases
    it; if one never does, the dbt step closes it first (close_shared_connection)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shared = ingestion._SHARED
    shared.acquire("run-x", warehouse, {"step_a", "step_b"})
    shared.release("step_a")
    assert shared.is_open  # step_b has not released it
    assert ingestion.close_shared_connection() is True
    assert not shared.is_open
    assert ingestion.close_shared_connection() is False
    duckdb.connect(str(warehouse)).close()  # the file is free
