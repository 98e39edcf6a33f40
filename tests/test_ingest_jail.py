"""The landing folder is a jail: symlinks out of it and symlink loops fail as ledger entries
without being opened, the object's good files still load, and nothing is retried."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.ingestion import assets as ingestion
from orchestration.defs.ingestion.assets import (
    UNRESOLVED_CHECK,
    build_ingestion_asset,
    is_transient,
)
from orchestration.defs.ingestion.resources import LandingFolder, Warehouse
from revops import cli
from revops.ingest import ingest_landing, loader
from revops.ingest import landing as landing_module
from revops.ingest.landing import LOOP, OUTSIDE, scan_object
from tests.ingest_support import DAY, csv_bytes, deliver, ledger, obj, query, rows

LEAD = "salesforce/Lead"
SECRET = "TOPSECRET-e41c9"


@pytest.fixture
def jail(tmp_path: Path) -> Path:
    """A landing folder with one good Lead file and every way out: a file symlink (with a `..`
    target), a date-folder symlink, an object-folder symlink, a symlink loop through `..` and
    a pair of links that point at each other; plus a symlink that stays inside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    lead = obj(LEAD)
    # Valid Lead files: loaded if anything followed the links.
    secret_rows = [{**r, "LastName": SECRET} for r in rows(LEAD, 2, start=100)]
    (outside / "secret.csv").write_bytes(csv_bytes(lead.column_names, secret_rows))
    (outside / "passwd").write_text(f"root:x:0:0:{SECRET}:/root:/bin/bash\n")
    (outside / "day").mkdir()
    (outside / "day" / "Lead.csv").write_bytes(csv_bytes(lead.column_names, secret_rows))
    (outside / "Contact" / DAY).mkdir(parents=True)
    (outside / "Contact" / DAY / "Contact.csv").write_text(f"Id,LastName\n1,{SECRET}\n")

    landing = tmp_path / "landing"
    deliver(landing, LEAD, n=3)
    day = landing / LEAD / DAY
    (day / "stolen.csv").symlink_to(Path("../../../../outside/secret.csv"))
    (day / "passwd.csv").symlink_to(outside / "passwd")
    (day / "alias.csv").symlink_to("Lead.csv")  # inside: a duplicate of Lead.csv
    (landing / LEAD / "2025-03-02").symlink_to(outside / "day", target_is_directory=True)
    (landing / LEAD / "junk").mkdir()
    (landing / LEAD / "junk" / "loop").symlink_to("..", target_is_directory=True)
    (day / "a.csv").symlink_to("b.csv")
    (day / "b.csv").symlink_to("a.csv")
    (landing / "salesforce" / "Contact").symlink_to(outside / "Contact")
    return landing


def _everything_stored(warehouse: Path) -> str:
    """Every value of every table of the warehouse, as one text."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where not temporary"
        ).fetchall()
        assert ("raw", "_rejects") in tables and ("raw", "_load_ledger") in tables
        return "\n".join(
            str(con.execute(f'select * from "{s}"."{t}"').fetchall()) for s, t in tables
        )
    finally:
        con.close()


def test_nothing_outside_the_landing_folder_is_read(
    jail: Path, tmp_path: Path, monkeypatch, capsys, caplog
):
    warehouse = tmp_path / "warehouse.duckdb"
    opened: list[Path] = []
    probe = loader.probe_file
    monkeypatch.setattr(loader, "probe_file", lambda p, f: opened.append(p) or probe(p, f))
    caplog.set_level(logging.DEBUG)

    code = cli.main(["ingest", "--landing", str(jail), "--warehouse", str(warehouse)])

    out = capsys.readouterr()
    assert code == 1  # failed entries exit 1; the good file still loaded
    status = {r["file_path"]: (r["status"], r["error"]) for r in ledger(warehouse)}
    assert status == {
        f"{LEAD}/{DAY}/Lead.csv": ("loaded", None),
        f"{LEAD}/{DAY}/alias.csv": ("duplicate", None),
        f"{LEAD}/{DAY}/stolen.csv": ("failed", OUTSIDE),
        f"{LEAD}/{DAY}/passwd.csv": ("failed", OUTSIDE),
        f"{LEAD}/{DAY}/a.csv": ("failed", LOOP),
        f"{LEAD}/{DAY}/b.csv": ("failed", LOOP),
        f"{LEAD}/2025-03-02": ("failed", OUTSIDE),
        f"{LEAD}/junk/loop": ("failed", LOOP),
        "salesforce/Contact": ("failed", OUTSIDE),
    }
    failed = [r for r in ledger(warehouse) if r["status"] == "failed"]
    assert {(r["file_sha256"], r["rows_read"], r["rows_loaded"]) for r in failed} == {("", None, 0)}
    assert query(warehouse, "select _file_path, count(*) from raw.salesforce__lead group by 1") == [
        (f"{LEAD}/{DAY}/Lead.csv", 3)
    ]
    assert all(p.resolve().is_relative_to(jail.resolve()) for p in opened)
    stored = _everything_stored(warehouse)
    for text in (stored, out.out, out.err, caplog.text):
        assert SECRET not in text and "root:x" not in text
    assert f"error: {LEAD}/junk/loop: {LOOP}" in " ".join(out.out.split())

    # Never retried: the next run skips every entry, failed ones included, by the link's own
    # size and mtime.
    again = ingest_landing(jail, warehouse)
    assert again.files_failed == 0 and again.files_loaded == 0
    assert SECRET not in again.format_table()
    assert len(ledger(warehouse)) == len(status)


def test_a_symlink_loop_is_reported_once_and_the_good_file_loads(
    jail: Path, tmp_path: Path, monkeypatch
):
    # No waiting between attempts; an attempt would still show as STEP_UP_FOR_RETRY.
    monkeypatch.setattr(ingestion, "LOCK_RETRY_POLICY", dg.RetryPolicy(max_retries=2))
    warehouse = tmp_path / "warehouse.duckdb"
    resources = {
        "landing": LandingFolder(path=str(jail)),
        "warehouse": Warehouse(path=str(warehouse)),
    }

    result = dg.materialize(
        [build_ingestion_asset(obj(LEAD))], resources=resources, raise_on_error=False
    )

    # The failed-file policy: one attempt, the asset materializes, its check warns.
    kinds = [e.event_type_value for e in result.all_events if e.step_key]
    assert kinds.count("STEP_START") == 1 and "STEP_UP_FOR_RETRY" not in kinds
    assert result.success
    (check,) = [e for e in result.get_asset_check_evaluations() if e.check_name == UNRESOLVED_CHECK]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    message = check.metadata["errors"].value
    assert f"{LEAD}/junk/loop: {LOOP}" in message and SECRET not in message
    assert SECRET not in (check.description or "")
    assert query(warehouse, "select count(*) from raw.salesforce__lead") == [(3,)]


def test_only_lock_and_io_errors_are_transient():
    assert is_transient(duckdb.IOException(f'IO Error: {ingestion.LOCK_ERROR} "w.duckdb"'))
    assert is_transient(OSError(errno.EIO, "Input/output error"))
    assert not is_transient(OSError(errno.ELOOP, "Too many levels of symbolic links"))
    assert not is_transient(duckdb.InvalidInputException("bad file"))
    assert not is_transient(ValueError("bad value"))


def test_a_deterministic_os_error_fails_once_with_its_cause_first(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(ingestion, "LOCK_RETRY_POLICY", dg.RetryPolicy(max_retries=2))

    def loops(*args, **kwargs):
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), "/elsewhere/loop")

    monkeypatch.setattr(ingestion, "ingest_object", loops)
    resources = {
        "landing": LandingFolder(path=str(tmp_path)),
        "warehouse": Warehouse(path=str(tmp_path / "w.duckdb")),
    }
    result = dg.materialize(
        [build_ingestion_asset(obj(LEAD))], resources=resources, raise_on_error=False
    )

    kinds = [e.event_type_value for e in result.all_events if e.step_key]
    assert "STEP_UP_FOR_RETRY" not in kinds
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.event_specific_data.error.message
    # The cause first (the chained OSError, with its path, follows in the traceback).
    assert message.splitlines()[0].endswith(f"Failure: {LEAD}: {os.strerror(errno.ELOOP)}")


def test_plain_entries_are_listed_by_their_real_paths_without_resolving_each(
    tmp_path: Path, monkeypatch
):
    """The scan resolves symlinks only: a plain file under a real folder is its own real path
    (a `realpath` per file cost 8 lstat calls each, seconds per step on 20,000 files). The
    paths are still real through a landing folder given by a link and a folder link inside."""
    real_landing = tmp_path / "real-landing"
    files = [deliver(real_landing, LEAD, day=f"2025-03-0{d}", name=f"L{d}.csv") for d in (1, 2)]
    (real_landing / "elsewhere").mkdir()
    deliver(real_landing / "elsewhere", LEAD, day="2025-03-03", name="L3.csv")
    # A delivery folder that links to another folder inside the landing folder.
    (real_landing / LEAD / "2025-03-03").symlink_to(
        real_landing / "elsewhere" / LEAD / "2025-03-03", target_is_directory=True
    )
    (real_landing / LEAD / "2025-03-01" / "notes").mkdir()
    (real_landing / LEAD / "2025-03-01" / "notes" / "n.csv").write_text("x\n")
    landing = tmp_path / "landing"
    landing.symlink_to(real_landing, target_is_directory=True)

    calls: list[str] = []
    realpath = os.path.realpath
    monkeypatch.setattr(
        landing_module.os.path, "realpath", lambda p, **k: calls.append(p) or realpath(p, **k)
    )
    found = scan_object(landing, obj(LEAD))
    resolved = len(calls)

    assert {f.rel_path: f.problem is None for f in found} == {
        f"{LEAD}/2025-03-01/L1.csv": True,
        f"{LEAD}/2025-03-02/L2.csv": True,
        f"{LEAD}/2025-03-03/L3.csv": True,
        f"{LEAD}/2025-03-01/notes/n.csv": False,  # in a sub-folder of a delivery: fails
    }
    for f in found:
        assert f.location == realpath(landing / f.rel_path)
        stat = os.stat(f.location)
        assert (f.size, f.mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    assert found[0].location == str(files[0].resolve())
    # The landing folder, the object folder and its source, the one link: not one per file.
    assert resolved <= 4
