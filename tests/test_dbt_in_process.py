"""dbt inside the Dagster process (orchestration/defs/transform/dbt_in_process.py): the dbt
asset yields the same Dagster events as with dbt's subprocess, reuses the parsed manifest,
leaves the warehouse free for the publish, and reports dbt's own failures."""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from orchestration.defs.transform import dbt_in_process
from orchestration.defs.transform.resources import IN_PROCESS_ENV, RevopsDbtCliResource
from revops import refresh
from revops.settings import environment

ROOT = Path(__file__).resolve().parent.parent
MODEL = "stg_stripe__customers"  # small, with a primary-key test and relationships

# metadata that differs between any two runs: the node's time and dbt's invocation id
VOLATILE = {"Execution Duration", "invocation_id"}


def _resource(in_process: bool | None = None) -> RevopsDbtCliResource:
    return RevopsDbtCliResource(
        project_dir=str(ROOT),
        dbt_executable=_venv_dbt(),
        in_process=in_process,
    )


def _venv_dbt() -> str:
    import sys

    return str(Path(sys.executable).parent / "dbt")


def _materialize(warehouse: Path, serving: Path, in_process: bool) -> dg.ExecuteInProcessResult:
    from orchestration.defs.ingestion.resources import Warehouse
    from orchestration.defs.publish.resources import ServingFolder
    from orchestration.defs.transform.assets import revops_dbt_models
    from orchestration.defs.transform.resources import OrgSettings

    return dg.materialize(
        [revops_dbt_models],
        selection=[MODEL],
        resources={
            "dbt": _resource(in_process),
            "warehouse": Warehouse(path=str(warehouse)),
            "serving": ServingFolder(path=str(serving)),
            "settings_file": OrgSettings(),
        },
        raise_on_error=False,
    )


def _normalised(result: dg.ExecuteInProcessResult) -> list[tuple]:
    def meta(metadata) -> dict:
        return {k: v.value for k, v in metadata.items() if k not in VOLATILE}

    out = []
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        out.append(("materialization", mat.asset_key.to_user_string(), meta(mat.metadata)))
    for evaluation in result.get_asset_check_evaluations():
        out.append(
            (
                "check",
                f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}",
                evaluation.passed,
                str(evaluation.severity),
                meta(evaluation.metadata),
            )
        )
    return sorted(out, key=repr)


@contextlib.contextmanager
def _current_parse_held() -> Iterator[None]:
    """A parse for this environment in target/ that nobody replaces meanwhile: the parse lock
    of `ensure_manifest` held (the other xdist worker's refreshes parse into target/ with their
    own warehouse path, which would make the stamp stale between the parse and the build)."""
    for _ in range(10):
        refresh.ensure_manifest()
        with (refresh.PROJECT_DIR / "target" / refresh.PARSE_LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if dbt_in_process.load_parsed_manifest(refresh.PROJECT_DIR) is not None:
                yield
                return
    raise AssertionError("target/ was parsed again by another process ten times in a row")


def test_in_process_yields_the_subprocess_events_and_reuses_the_parse(
    xs_published, tmp_path, monkeypatch
):
    """The dbt asset, materialized for one model by Dagster (the context selects it), once
    with dbt as a subprocess and once in process: the same materialization, the same check
    results with the same metadata; the in-process build did not parse, wrote
    run_results.json, and left the warehouse free for a reader in this process."""
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    shutil.copyfile(xs_published["warehouse"], warehouse)
    serving.mkdir()
    reused = []
    load = dbt_in_process.load_parsed_manifest

    def spy(project_dir):
        manifest = load(project_dir)
        reused.append(manifest is not None)
        return manifest

    monkeypatch.delenv(IN_PROCESS_ENV, raising=False)
    # the parse the refresh makes first, with its warehouse path
    with environment({"REVOPS_WAREHOUSE": str(warehouse)}), _current_parse_held():
        monkeypatch.setattr(dbt_in_process, "load_parsed_manifest", spy)
        subprocess_run = _materialize(warehouse, serving, in_process=False)
        assert reused == []  # the subprocess path never looks
        in_process_run = _materialize(warehouse, serving, in_process=True)
        assert reused == [True]
    assert subprocess_run.success and in_process_run.success
    events = _normalised(in_process_run)
    assert events == _normalised(subprocess_run)
    kinds = [e[0] for e in events]
    assert kinds.count("materialization") == 1 and kinds.count("check") >= 2
    assert all(e[2] for e in events if e[0] == "check")
    results = warehouse.with_name("dbt_run_results.json")
    assert MODEL in results.read_text()
    con = duckdb.connect(str(warehouse), read_only=True)  # dbt's handle was closed
    try:
        assert con.execute(f"select count(*) from main.{MODEL}").fetchone()[0] > 0
    finally:
        con.close()
    for run in (subprocess_run, in_process_run):  # each build's folder is removed
        assert not (ROOT / "target" / f"build-{run.run_id}").exists()


def test_a_stale_parse_is_not_reused(dbt_manifest, monkeypatch):
    """The manifest is reused only while ensure_manifest's stamp holds for this environment:
    with another REVOPS_* value (another warehouse path, a setting) dbt parses again."""
    with _current_parse_held():  # parsed in this environment, and not replaced meanwhile
        manifest = dbt_in_process.load_parsed_manifest(ROOT)
        assert manifest is not None and "model.revops.fct_mrr" in manifest.nodes
        assert manifest.flat_graph  # what `graph` in the macros reads
        monkeypatch.setenv("REVOPS_SOME_SETTING", "b")
        assert dbt_in_process.load_parsed_manifest(ROOT) is None
        assert dbt_in_process.load_parsed_manifest(ROOT / "models") is None  # another project


def test_dbt_failing_to_start_is_the_steps_error(dbt_manifest, tmp_path):
    """An error dbt raises before it logs anything (here a bad option) fails the invocation
    with dbt's message, as the subprocess's exit code and output do."""
    invocation = _resource(True).cli(
        ["build", "--no-such-option"], target_path=tmp_path / "target", raise_on_error=True
    )
    with pytest.raises(DagsterDbtCliRuntimeError, match="no-such-option"):
        list(invocation.stream())
    assert invocation.process.returncode == 2


@pytest.mark.parametrize(
    ("setting", "env", "target", "expected"),
    [
        (None, None, None, True),  # the default
        (None, "0", None, False),
        (None, "1", None, True),
        (False, "1", None, False),  # the resource's own setting wins
        (None, None, "spark", False),  # Spark keeps its subprocess
    ],
)
def test_in_process_is_the_default_on_duckdb_only(monkeypatch, setting, env, target, expected):
    for name, value in ((IN_PROCESS_ENV, env), ("REVOPS_DBT_TARGET", target)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert _resource(setting).runs_in_process() is expected


def test_a_bad_in_process_value_is_refused(monkeypatch):
    monkeypatch.setenv(IN_PROCESS_ENV, "maybe")
    with pytest.raises(ValueError, match=IN_PROCESS_ENV):
        _resource().runs_in_process()


def test_an_interrupt_stops_dbts_thread():
    """What Ctrl-C does to dbt's process: KeyboardInterrupt in the thread running dbt."""
    stopped = threading.Event()

    def busy() -> None:
        try:
            while True:
                time.sleep(0.01)
        except KeyboardInterrupt:
            stopped.set()

    thread = dbt_in_process._DbtThread(["build"], busy)
    thread.start()
    time.sleep(0.1)
    dbt_in_process._interrupt(thread)
    thread.wait(timeout=5)
    assert stopped.is_set() and not thread.is_alive()


def test_the_parse_decoded_ahead_is_taken_once_and_only_under_its_stamp(dbt_manifest, monkeypatch):
    """`prepare_in_background` (started when the run's resources are set up) decodes the
    parse beside the ingestion steps; the build takes that manifest instead of decoding again,
    only while the stamp is the one it was decoded under, and only once."""
    decoded = []
    real_decode = dbt_in_process._decode_parse
    monkeypatch.setattr(
        dbt_in_process, "_decode_parse", lambda d: decoded.append(d) or real_decode(d)
    )

    def prepared() -> None:
        dbt_in_process.prepare_in_background(ROOT)
        for thread in threading.enumerate():
            if thread.name == "dbt-prepare":
                thread.join()

    with _current_parse_held():
        decoded.clear()  # _current_parse_held decodes it once
        dbt_in_process.prepare_in_background(ROOT)
        dbt_in_process.prepare_in_background(ROOT)  # one at a time
        manifest = dbt_in_process.load_parsed_manifest(ROOT)
        assert manifest is not None and "model.revops.fct_mrr" in manifest.nodes
        assert len(decoded) == 1  # in the background, not again
        assert dbt_in_process.load_parsed_manifest(ROOT) is not manifest  # taken once
        assert len(decoded) == 2
        prepared()
        assert len(decoded) == 3
        monkeypatch.setenv("REVOPS_SOME_SETTING", "b")  # another environment: not vouched
        assert dbt_in_process.load_parsed_manifest(ROOT) is None
        assert dbt_in_process._PREPARED == {}  # dropped, not kept for later
        monkeypatch.delenv("REVOPS_SOME_SETTING")
        prepared()
        monkeypatch.setattr(dbt_in_process, "_vouched_stamp", lambda d: "another stamp")
        assert dbt_in_process.load_parsed_manifest(ROOT) is not None  # decoded anew
        assert len(decoded) == 5


def test_the_dbt_resource_prepares_the_build_when_the_run_starts(monkeypatch):
    from dagster import build_init_resource_context

    prepared = []
    monkeypatch.setattr(dbt_in_process, "prepare_in_background", prepared.append)
    for in_process, expected in ((True, [ROOT]), (False, [])):
        prepared.clear()
        _resource(in_process).setup_for_execution(build_init_resource_context())
        assert [Path(p).resolve() for p in prepared] == [p.resolve() for p in expected]
