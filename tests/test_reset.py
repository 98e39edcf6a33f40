"""`revops reset` removes the warehouse and the snapshots after confirmation, never the landing
folder, and `revops generate --until` through the CLI (issue 19)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from revops import checks, runs
from revops.cli import main
from revops.generator.company import MANIFEST_FILE, read_manifest
from revops.reset import WAREHOUSE_SIDECARS


def _layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    landing, serving = tmp_path / "landing", tmp_path / "serving"
    (landing / "salesforce" / "Lead" / "2024-01-01").mkdir(parents=True)
    (landing / "salesforce" / "Lead" / "2024-01-01" / "Lead.csv").write_text("Id\n1\n")
    warehouse = tmp_path / "warehouse.duckdb"
    for path in (warehouse, tmp_path / "warehouse.duckdb.wal", tmp_path / checks.CHECKS_FILE):
        path.write_text("x")
    (serving / "snapshots" / "s1").mkdir(parents=True)
    (serving / "snapshots" / "s1" / "revops.duckdb").write_text("x")
    (serving / "revops.duckdb").write_text("x")
    (serving / "notes.txt").write_text("not ours")
    return landing, warehouse, serving


def _args(landing: Path, warehouse: Path, serving: Path) -> list[str]:
    return ["--landing", str(landing), "--warehouse", str(warehouse), "--serving", str(serving)]


def test_reset_asks_then_removes_the_warehouse_and_snapshots_but_never_the_landing(
    tmp_path: Path, monkeypatch
):
    landing, warehouse, serving = _layout(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # not a terminal: --yes is needed
    assert main(["reset", *_args(landing, warehouse, serving)]) == 1
    assert warehouse.exists() and (serving / "snapshots").exists()

    assert main(["reset", *_args(landing, warehouse, serving), "--yes"]) == 0
    assert not warehouse.exists() and not warehouse.with_name("warehouse.duckdb.wal").exists()
    assert not (tmp_path / checks.CHECKS_FILE).exists()
    assert not (serving / "snapshots").exists() and not (serving / "revops.duckdb").exists()
    assert (serving / "notes.txt").exists()  # not the refresh's: kept
    assert (landing / "salesforce" / "Lead" / "2024-01-01" / "Lead.csv").exists()
    assert main(["reset", *_args(landing, warehouse, serving), "--yes"]) == 0  # nothing left


def test_reset_refuses_when_the_landing_folder_is_in_the_way(tmp_path: Path):
    _landing, warehouse, serving = _layout(tmp_path)
    inside = serving / "snapshots" / "landing"
    inside.mkdir()
    assert main(["reset", *_args(inside, warehouse, serving), "--yes"]) == 2
    assert warehouse.exists() and inside.exists()


def test_reset_knows_the_files_the_refresh_keeps_beside_the_warehouse(dbt_manifest):
    # imported here: the dbt assets' module reads target/manifest.json, which a fresh clone
    # has only once the `dbt_manifest` fixture has parsed the project
    from orchestration.defs.transform.assets import RUN_RESULTS_FILE

    assert RUN_RESULTS_FILE in WAREHOUSE_SIDECARS
    assert runs.RUNS_DIR in WAREHOUSE_SIDECARS  # the run history and its kept dbt logs


def test_generate_until_takes_the_company_from_the_folder(tmp_path: Path, capsys):
    out = tmp_path / "landing"
    common = ["generate", "--out", str(out)]
    assert main([*common, "--leads", "300", "--days", "60", "--until", "2023-01-20"]) == 0
    assert "Delivered 2023-01-01 .. 2023-01-20" in capsys.readouterr().out
    # no company arguments: the folder's; the next days only
    assert main([*common, "--until", "2023-01-25"]) == 0
    assert "Delivered 2023-01-21 .. 2023-01-25" in capsys.readouterr().out
    manifest = read_manifest(out)
    assert manifest is not None and manifest.delivered_through == dt.date(2023, 1, 25)
    assert (manifest.company.leads, manifest.company.days) == (300, 60)
    assert main([*common, "--until", "2023-01-25"]) == 0
    assert "Nothing new" in capsys.readouterr().out
    # another company: exit 2, the folder and both companies named
    assert main([*common, "--seed", "7", "--until", "2023-01-30"]) == 2
    said = " ".join(capsys.readouterr().out.split())
    assert str(out) in said and "seed 42, 300 leads" in said and "seed 7, 300 leads" in said
    assert (out / MANIFEST_FILE).exists()


@pytest.mark.parametrize("until", ["2022-12-31", "2023-03-02"])
def test_generate_until_outside_the_history_exits_2(tmp_path: Path, until: str):
    args = ["generate", "--out", str(tmp_path), "--leads", "300", "--days", "60"]
    assert main([*args, "--until", until]) == 2


def test_reset_refuses_while_another_process_holds_the_warehouse(tmp_path: Path):
    import subprocess
    import sys

    landing, warehouse, serving = _layout(tmp_path)
    warehouse.unlink()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('held', flush=True); time.sleep(30)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["reset", *_args(landing, warehouse, serving), "--yes"]) == 2
        assert warehouse.exists() and (serving / "snapshots").exists()
    finally:
        holder.kill()
        holder.wait()
