"""The fixed costs every refresh no longer pays: the version probe and adapter handle of
dagster-dbt's CLI resource, and `dbt parse` when nothing it reads has changed; and the DuckDB
memory limit every pipeline connection shares."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import pytest
from dagster_dbt import DbtCliResource

from revops import refresh, settings
from revops.ingest import warehouse as wh

ROOT = Path(__file__).resolve().parent.parent


# --- dbt CLI resource ----------------------------------------------------------------------


def test_the_dbt_resource_knows_its_version_without_starting_dbt(monkeypatch):
    from orchestration.defs.transform.resources import RevopsDbtCliResource

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"started a process: {args}")

    # dagster-dbt imported check_output by name: patch the name it calls
    monkeypatch.setattr("dagster_dbt.core.resource.check_output", no_subprocess)
    resource = RevopsDbtCliResource(project_dir=str(ROOT), dbt_executable=_venv_dbt())
    assert str(resource._cli_version) == _installed("dbt-core")
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_another_dbt_executable_is_still_asked_its_version(monkeypatch, tmp_path):
    from orchestration.defs.transform.resources import RevopsDbtCliResource

    other = tmp_path / "other" / "bin" / "dbt"  # e.g. dbt Fusion, or another venv's dbt
    other.parent.mkdir(parents=True)
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    asked = []

    def fake_check_output(args, *rest, **kwargs):
        asked.append(args)
        return b"Core:\n  - installed: 1.10.3\n"

    monkeypatch.setattr("dagster_dbt.core.resource.check_output", fake_check_output)
    resource = RevopsDbtCliResource(project_dir=str(ROOT), dbt_executable=str(other))
    assert str(resource._cli_version) == "1.10.3"
    assert asked == [[str(other), "--version"]]


def test_dagster_dbt_still_has_the_hooks_the_resource_overrides():
    """The overridden members are private to dagster-dbt: an upgrade that renames or stops
    calling them would silently bring the start-up cost back. Fail instead."""
    cli = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in cli
    assert "self._initialize_dbt_core_adapter(" in cli
    assert callable(getattr(DbtCliResource._cli_version, "func", None))


def test_the_refresh_uses_the_resource():
    from orchestration.definitions import defs
    from orchestration.defs.transform.resources import RevopsDbtCliResource

    assert isinstance(defs.resources["dbt"], RevopsDbtCliResource)


# --- dbt parse only when needed ------------------------------------------------------------


@pytest.fixture
def fake_project(tmp_path, monkeypatch):
    """A project folder whose `dbt parse` is a fake that writes the two artifacts."""
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: x\n")
    (project / "models" / "a.sql").write_text("select 1\n")
    monkeypatch.setattr(refresh, "PROJECT_DIR", project)
    parses = []

    def fake_run(args, **kwargs):
        parses.append(args)
        # the parse writes where it is told (a scratch folder); ensure_manifest moves its
        # artifacts into project/target
        target = Path(args[args.index("--target-path") + 1])
        assert target.parent == project / "target" and target.is_dir()
        (target / "manifest.json").write_text(f'{{"parse": {len(parses)}}}')
        (target / "partial_parse.msgpack").write_bytes(b"x" * len(parses))
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(refresh.subprocess, "run", fake_run)
    for key in [k for k in os.environ if k.startswith(("REVOPS_", "DBT_"))]:
        monkeypatch.delenv(key)
    return project, parses


def test_parse_runs_once_while_nothing_changes(fake_project):
    project, parses = fake_project
    assert refresh.ensure_manifest() == project / "target" / "manifest.json"
    refresh.ensure_manifest()
    refresh.ensure_manifest()
    assert len(parses) == 1


@pytest.mark.parametrize(
    "change",
    ["edit a model", "add a macro", "set an env var", "rewrite the manifest", "force"],
)
def test_parse_runs_again_after_a_change(fake_project, monkeypatch, change):
    project, parses = fake_project
    refresh.ensure_manifest()
    force = False
    if change == "edit a model":
        (project / "models" / "a.sql").write_text("select 2\n")
    elif change == "add a macro":
        (project / "macros").mkdir()
        (project / "macros" / "m.sql").write_text("{% macro m() %}{% endmacro %}\n")
    elif change == "set an env var":
        monkeypatch.setenv("REVOPS_GROSS_MARGIN", "0.7")  # a setting the models read
    elif change == "rewrite the manifest":
        # e.g. `dbt build --target spark` run by hand: another manifest, same project files
        (project / "target" / "manifest.json").write_text('{"by": "hand", "longer": true}')
    else:
        force = True
    refresh.ensure_manifest(force=force)
    assert len(parses) == 2
    refresh.ensure_manifest()
    assert len(parses) == 2


def test_a_refresh_elsewhere_needs_no_new_parse(fake_project, monkeypatch):
    """Another landing or serving folder, or a warehouse of the same name in another folder
    (each test, each org) reuses the parse; a warehouse of another name (another database name
    in every node) does not."""
    _, parses = fake_project
    refresh.ensure_manifest()
    for key in sorted(refresh.RUN_TIME_ONLY_ENV):
        monkeypatch.setenv(key, f"/elsewhere/{key.lower()}")
        refresh.ensure_manifest()
    monkeypatch.setenv("REVOPS_WAREHOUSE", "/a/warehouse.duckdb")
    refresh.ensure_manifest()
    monkeypatch.setenv("REVOPS_WAREHOUSE", "/b/c/warehouse.duckdb")
    refresh.ensure_manifest()
    assert len(parses) == 2  # the first, and the first with a warehouse named
    monkeypatch.setenv("REVOPS_WAREHOUSE", "/a/wh.duckdb")
    refresh.ensure_manifest()
    assert len(parses) == 3


@pytest.mark.parametrize(
    "path", ["/a/warehouse.duckdb", "wh.duckdb", "/x/y/my.org.db", "/x/noext", "/x/.hidden.db"]
)
def test_the_parse_sees_the_warehouse_as_dbt_duckdb_names_its_database(path):
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    (part,) = refresh.PARSED_PART_OF_ENV.values()
    assert part(path) == DuckDBCredentials.path_derived_database_name(path)


@pytest.mark.parametrize("value", [":memory:", "md:my_db", "md:", "ducklake:/x/meta.ducklake"])
def test_a_warehouse_that_is_not_a_file_is_seen_whole(value):
    (part,) = refresh.PARSED_PART_OF_ENV.values()
    assert part(value) == value


def test_no_project_file_but_the_profile_reads_a_run_time_only_variable():
    """What lets RUN_TIME_ONLY_ENV and PARSED_PART_OF_ENV (but for their part) out of the parse
    fingerprint: no model, macro, test, seed config or dbt_project.yml names those variables
    (profiles.yml may: dbt keeps only its field names), and no dbt setting (read as
    REVOPS_<NAME> by the `setting` macro) shares them."""
    keys = refresh.RUN_TIME_ONLY_ENV | set(refresh.PARSED_PART_OF_ENV)
    names = {key.removeprefix("REVOPS_").lower() for key in keys}
    assert not names & set(settings.dbt_settings()), names
    files = [ROOT / name for name in refresh.PARSE_FILES if name != "profiles.yml"]
    for folder in refresh.PARSE_FOLDERS:
        files.extend((ROOT / folder).rglob("*"))
    readers = {}
    for path in files:
        if not path.is_file() or path.suffix not in {".sql", ".yml", ".yaml", ".md", ".csv"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found = [key for key in keys if key in text]
        if found:
            readers[str(path.relative_to(ROOT))] = found
    # the test scope variable is read when a test runs (macros/tests/test_scope.sql)
    assert set(readers) <= {"macros/tests/test_scope.sql"}, readers
    assert readers.get("macros/tests/test_scope.sql", ["REVOPS_TEST_SCOPE"]) == [
        "REVOPS_TEST_SCOPE"
    ]


def test_parses_take_turns_and_publish_whole_files(fake_project, monkeypatch):
    """Two refreshes (or test workers) at once: one parse at a time, and target/manifest.json
    is only ever replaced by a rename, so a reader holding it open keeps the whole old file."""
    project, parses = fake_project
    refresh.ensure_manifest()
    held = (project / "target" / "manifest.json").open()
    inner, running, most = refresh.subprocess.run, [0], [0]

    def slow_run(args, **kwargs):
        running[0] += 1
        most[0] = max(most[0], running[0])
        time.sleep(0.3)
        try:
            return inner(args, **kwargs)
        finally:
            running[0] -= 1

    monkeypatch.setattr(refresh.subprocess, "run", slow_run)
    workers = [
        threading.Thread(target=refresh.ensure_manifest, kwargs={"force": True}) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(parses) == 3 and most[0] == 1
    assert held.read() == '{"parse": 1}'  # the first parse's file, whole
    held.close()
    assert (project / "target" / "manifest.json").read_text() == '{"parse": 3}'
    assert not list((project / "target").glob("parse-*"))  # scratch folders are removed


def test_a_failed_parse_leaves_no_stamp(fake_project, monkeypatch):
    project, _ = fake_project
    refresh.ensure_manifest()
    (project / "models" / "a.sql").write_text("select broken\n")
    monkeypatch.setattr(
        refresh.subprocess,
        "run",
        lambda args, **kw: subprocess.CompletedProcess(args, 1, "Parsing Error", ""),
    )
    with pytest.raises(RuntimeError, match="dbt parse failed"):
        refresh.ensure_manifest()
    assert not (project / "target" / refresh.PARSE_STAMP).exists()


# --- DuckDB memory limit -------------------------------------------------------------------


def test_profiles_default_memory_limit_is_the_pipelines():
    profiles = (ROOT / "profiles.yml").read_text()
    defaults = re.findall(r"env_var\('REVOPS_DUCKDB_MEMORY_LIMIT', ''\) or '([^']+)'", profiles)
    assert defaults == [settings.DEFAULT_MEMORY_LIMIT]


@pytest.mark.parametrize("limit", [None, "", "1GB"])
def test_pipeline_connections_take_the_memory_limit(tmp_path, monkeypatch, limit):
    if limit is None:
        monkeypatch.delenv(settings.MEMORY_LIMIT_ENV, raising=False)
    else:
        monkeypatch.setenv(settings.MEMORY_LIMIT_ENV, limit)
    expected = limit or settings.DEFAULT_MEMORY_LIMIT
    with duckdb.connect(config={"memory_limit": expected}) as reference:
        want = reference.execute("select current_setting('memory_limit')").fetchone()
    con = wh.connect(tmp_path / "w.duckdb")
    try:
        assert con.execute("select current_setting('memory_limit')").fetchone() == want
    finally:
        con.close()


def _venv_dbt() -> str:
    import sys

    return str(Path(sys.executable).parent / "dbt")


def _installed(distribution: str) -> str:
    import importlib.metadata

    return importlib.metadata.version(distribution)


# --- the ephemeral Dagster instance of `revops refresh` -----------------------------------


def _small_job_events(instance) -> list[tuple]:
    """Run a job of two assets and two checks (one failing, blocking=False) in `instance`;
    every stored event, reduced to what differs between runs only by ids and times."""
    import dagster as dg

    # a code version: the data version is otherwise derived from the run's id
    @dg.asset(code_version="1", check_specs=[dg.AssetCheckSpec("positive", asset="up")])
    def up():
        yield dg.Output(1, metadata={"rows": 1})
        yield dg.AssetCheckResult(check_name="positive", passed=True, metadata={"n": 0})

    @dg.asset(code_version="1", check_specs=[dg.AssetCheckSpec("small", asset="down")])
    def down(up):
        yield dg.Output(up + 1, metadata={"rows": 2})
        yield dg.AssetCheckResult(check_name="small", passed=False, metadata={"n": 3})

    job = dg.define_asset_job("j", executor_def=dg.in_process_executor)
    defs = dg.Definitions(assets=[up, down], jobs=[job])
    out = []
    for _ in range(2):  # the second run reads the first one's materializations (data versions)
        result = defs.resolve_job_def("j").execute_in_process(instance=instance)
        assert result.success
        for record in instance.all_logs(result.run_id):
            event = record.dagster_event
            if event is None:
                continue
            data = event.event_specific_data
            detail: object = None
            if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                mat = data.materialization
                detail = (
                    {k: v.value for k, v in mat.metadata.items() if k != "path"},  # a tmp dir
                    sorted(k for k in mat.tags or {}),
                    (mat.tags or {}).get("dagster/data_version"),
                )
            elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                detail = (data.check_name, data.passed, data.target_materialization_data is None)
            out.append((event.event_type_value, event.step_key, str(event.asset_key), detail))
    for key in (dg.AssetKey("up"), dg.AssetKey("down")):
        latest = instance.get_latest_materialization_event(key)
        out.append(("latest", str(key), latest is not None))
        check = dg.AssetCheckKey(key, "positive" if key.path == ["up"] else "small")
        summary = instance.event_log_storage.get_asset_check_summary_records([check])[check]
        out.append(("check", str(check), summary.last_check_execution_record.status.value))
    return out


def test_the_refresh_instance_stores_what_the_ephemeral_one_does(monkeypatch):
    """Same events, materializations, data versions and check records as
    `DagsterInstance.ephemeral()`, with one connection reused instead of one per call."""
    import dagster as dg
    import sqlalchemy

    from orchestration.instance import ReusedConnectionEventLogStorage, ephemeral_instance

    with dg.DagsterInstance.ephemeral() as stock:
        expected = _small_job_events(stock)
    connects = []
    real_connect = sqlalchemy.engine.Engine.connect
    monkeypatch.setattr(
        sqlalchemy.engine.Engine,
        "connect",
        lambda self: connects.append(str(self.url)) or real_connect(self),
    )
    with ephemeral_instance() as fast:
        assert isinstance(fast.event_log_storage, ReusedConnectionEventLogStorage)
        created = len(connects)
        assert _small_job_events(fast) == expected
        # the stock event log opens one per read or write (~200 for this job); here only its
        # table lookups do, once per table
        opened = [url for url in connects[created:] if "events-" in url]
        assert len(opened) < 5, len(opened)
    with dg.DagsterInstance.ephemeral() as stock:
        created = len(connects)
        _small_job_events(stock)
        assert len([url for url in connects[created:] if "events-" in url]) > 50
    assert expected and any(e[0] == "ASSET_CHECK_EVALUATION" for e in expected)


def test_the_refresh_instance_is_the_ephemeral_one_but_for_its_event_log():
    """`ephemeral_instance()` copies dagster's `create_ephemeral_instance`: an upgrade that
    changes that instance, or the private names the storage overrides, fails here instead of
    silently running a different instance (or the stock storage's cost)."""
    import dagster as dg
    from dagster._core.storage.event_log.in_memory import InMemoryEventLogStorage

    from orchestration.instance import ephemeral_instance

    with dg.DagsterInstance.ephemeral() as stock, ephemeral_instance() as fast:
        for name in ("run_storage", "compute_log_manager", "run_coordinator", "run_launcher"):
            assert type(getattr(fast, name)) is type(getattr(stock, name)), name
        assert fast.get_settings("") == stock.get_settings("")
        assert fast.is_ephemeral and not fast.is_persistent
        assert type(stock.event_log_storage) is InMemoryEventLogStorage
        assert isinstance(fast.event_log_storage, InMemoryEventLogStorage)
    source = inspect.getsource(InMemoryEventLogStorage)
    for private in ("def _connect(self)", "self._engine", "self._db_lock", "def has_table("):
        assert private in source, private
    assert "self._connect()" in inspect.getsource(InMemoryEventLogStorage.run_connection)
    assert "self._connect()" in inspect.getsource(InMemoryEventLogStorage.index_connection)


def test_the_reused_connection_serves_every_thread():
    """Dagster may store an event from another thread (sqlite3 connections refuse that by
    default): the storage's lock serialises a connection made for every thread."""
    from orchestration.instance import ReusedConnectionEventLogStorage

    storage = ReusedConnectionEventLogStorage()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            with storage.index_connection() as conn:
                conn.exec_driver_sql("select count(*) from event_logs").fetchall()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    storage.dispose()
    assert errors == []


def test_refresh_runs_in_the_fast_instance_without_dagster_home(monkeypatch):
    from orchestration.instance import ReusedConnectionEventLogStorage

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with refresh._instance() as instance:
        assert isinstance(instance.event_log_storage, ReusedConnectionEventLogStorage)


# --- dbt's manifest read once per process ----------------------------------------------------


def test_the_manifest_is_parsed_once_per_version_of_the_file(tmp_path, monkeypatch):
    import json

    from revops import transform

    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": {"model.x.a": {"name": "a", "n": 1.5}}}))
    reads = []
    real_read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or real_read(self))
    first = transform.read_manifest(path)
    assert first == json.loads(path.read_text())
    assert transform.read_manifest(tmp_path / "." / "manifest.json") is first
    assert len(reads) == 1
    path.write_text(json.dumps({"nodes": {}, "changed": True}))
    os.utime(path, ns=(1, 1))  # another size and time: another version
    assert transform.read_manifest(path) == {"nodes": {}, "changed": True}
    assert len(reads) == 2


# --- a build's folder removed without waiting ------------------------------------------------


def test_a_build_folder_is_gone_at_once_and_deleted_in_the_background(tmp_path):
    from orchestration.defs.transform.assets import REMOVING_PREFIX, remove_in_background

    build = tmp_path / "build-1"
    (build / "compiled" / "m").mkdir(parents=True)
    for i in range(50):
        (build / "compiled" / "m" / f"{i}.sql").write_text("select 1\n")
    leftover = tmp_path / f"{REMOVING_PREFIX}build-0"  # a process killed while deleting
    (leftover / "run").mkdir(parents=True)
    (tmp_path / "manifest.json").write_text("{}")
    remove_in_background(build)
    assert not build.exists()
    for thread in threading.enumerate():
        if thread.name.startswith("remove "):
            thread.join(10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]
    remove_in_background(tmp_path / "build-2")  # never created: nothing to do


# --- imports a refresh does not need --------------------------------------------------------

HEAVY_UNUSED = ("pandas", "pyarrow", "plotly", "metricflow", "numpy", "polars", "matplotlib")


def test_the_cli_and_the_definitions_import_no_heavy_library_they_do_not_use(dbt_manifest):
    """Every refresh imports the CLI and the Dagster definitions (~5 s with Dagster, dagster-dbt
    and dbt): the libraries only some commands or steps use stay out of that start-up (each
    is imported where it is used)."""
    code = (
        "import sys; import revops.cli; cli = set(sys.modules); "
        "import orchestration.definitions; "
        f"print(sorted(m for m in {HEAVY_UNUSED!r} if m in sys.modules)); "
        "print(sorted(m for m in ('dagster', 'dbt', 'dagster_dbt') if m in cli))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    done = subprocess.run(
        [_venv_python(), "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    heavy, dagster_in_cli = done.stdout.splitlines()[-2:]
    assert heavy == "[]"
    assert dagster_in_cli == "[]"  # `revops runs`, `contract`, `generate` need no Dagster


def _venv_python() -> str:
    import sys

    return sys.executable


# --- where a refresh's time outside its steps goes ------------------------------------------


def test_the_job_time_outside_the_steps_is_split_before_between_and_after():
    # job called at 100, returned at 130; three steps, the last two overlapping
    steps = [(111.0, 120.0), (102.0, 110.0), (119.0, 125.0)]
    assert refresh._job_timings(steps, (100.0, 130.0)) == {
        "job_before_steps": 2.0,
        "job_between_steps": 1.0,  # 110 -> 111; the overlap adds nothing
        "job_after_steps": 5.0,
    }
    assert refresh._job_timings([], (100.0, 130.0)) == {}
    assert refresh._job_timings(steps, None) == {}


def test_the_clock_adds_laps_of_the_same_name(monkeypatch):
    ticks = iter([10.0, 10.5, 12.0, 12.25])
    monkeypatch.setattr(refresh.time, "perf_counter", lambda: next(ticks))
    clock = refresh.Clock()
    clock.lap("settings")
    clock.lap("job")
    clock.lap("settings")
    assert clock.timings == {"settings": 0.75, "job": 1.5}


def test_the_definitions_load_without_the_collector_and_are_frozen_once(monkeypatch):
    import gc

    loads, frozen, at_exit = [], [], []
    monkeypatch.setattr(refresh, "_FROZEN", [])
    monkeypatch.setattr(refresh, "_load_job", lambda: loads.append(gc.isenabled()) or ("job",))
    monkeypatch.setattr(refresh.gc, "freeze", lambda: frozen.append(True))
    monkeypatch.setattr(refresh.atexit, "register", at_exit.append)
    assert gc.isenabled()
    assert refresh._load_job_frozen() == ("job",)
    assert refresh._load_job_frozen() == ("job",)
    assert loads == [False, True]  # the first load without the collector, then as usual
    assert gc.isenabled()
    assert frozen == [True] and len(at_exit) == 1  # frozen once; frozen again at exit


def test_the_summary_reads_only_the_events_it_counts():
    """`_summarise` asks the event log for five kinds of event: the same summary as from
    every event of the run."""
    from dataclasses import asdict

    import dagster as dg

    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="up")])
    def up():
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name="positive", passed=True)

    @dg.asset(check_specs=[dg.AssetCheckSpec("small", asset="down")])
    def down(up):
        yield dg.Output(up + 1)
        yield dg.AssetCheckResult(check_name="small", passed=False)

    @dg.asset
    def broken(down):
        raise ValueError("no luck")

    class EveryEvent:  # the instance, its event log read whole
        def __init__(self, instance):
            self.instance = instance

        def all_logs(self, run_id, of_type=None):
            return self.instance.all_logs(run_id)

    job = dg.define_asset_job("j", executor_def=dg.in_process_executor)
    defs = dg.Definitions(assets=[up, down, broken], jobs=[job])
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("j").execute_in_process(
            instance=instance, raise_on_error=False
        )
        span = (0.0, 1e12)
        fast = refresh._summarise(result, instance, dg, span)
        whole = refresh._summarise(result, EveryEvent(instance), dg, span)
        kinds = {r.dagster_event_type for r in instance.all_logs(result.run_id)} - {None}
    assert asdict(fast) == asdict(whole)
    assert fast.models == 2 and fast.checks_passed == 1 and fast.checks_failed == ["down:small"]
    assert fast.failed_steps == ["broken"] and "no luck" in fast.errors[0]
    assert set(fast.step_seconds) == {"up", "down", "broken"}
    assert len(kinds) > 5  # there were other kinds to leave out


def test_the_in_process_build_writes_no_manifest_and_restores_dbt():
    """dbt's `write_manifest` after the last node is skipped during an in-process build only;
    an upgrade that stops calling it by that name fails here (the saving would be lost)."""
    from dbt.task import runnable

    from orchestration.defs.transform import dbt_in_process

    source = inspect.getsource(runnable.GraphRunnableTask.run)
    assert "write_manifest(self.manifest, self.config.project_target_path)" in source
    original = runnable.write_manifest
    with dbt_in_process._no_manifest_written():
        assert runnable.write_manifest is dbt_in_process._skip_manifest
        assert runnable.write_manifest(object(), "/nonexistent") is None
    assert runnable.write_manifest is original
    with pytest.raises(RuntimeError), dbt_in_process._no_manifest_written():
        raise RuntimeError("dbt failed")
    assert runnable.write_manifest is original
