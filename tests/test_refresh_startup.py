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
        monkeypatch.setenv("REVOPS_WAREHOUSE", "/elsewhere/warehouse.duckdb")
    elif change == "rewrite the manifest":
        # e.g. `dbt build --target spark` run by hand: another manifest, same project files
        (project / "target" / "manifest.json").write_text('{"by": "hand", "longer": true}')
    else:
        force = True
    refresh.ensure_manifest(force=force)
    assert len(parses) == 2
    refresh.ensure_manifest()
    assert len(parses) == 2


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
