"""Snapshot and report are one unit (issue 16): `<serving>/report.html` always describes the
snapshot `<serving>/revops.duckdb` holds, through kill -9, a full disk, a failed refresh and
rollback. Small synthetic warehouses (tests/publish_support.py), no dbt: each test runs in
about a second."""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from revops import publish
from tests.publish_support import (
    MART,
    disk_full_report,
    fake_report,
    files_under,
    make_warehouse,
    page,
    served_pair,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "warehouse.duckdb")


def _publish(warehouse: Path, serving: Path, run_id: str, **kwargs) -> publish.Snapshot:
    kwargs.setdefault("report", fake_report)
    return publish.publish_snapshot(warehouse, serving, [MART], run_id=run_id, **kwargs)


def _assert_serves(serving: Path, snapshot_id: str) -> None:
    """The served pair is `snapshot_id`'s: the database inside, the report, and the id the
    publishing code reports, all through the paths readers open."""
    assert served_pair(serving) == (snapshot_id, snapshot_id)
    assert publish.served_snapshot_id(serving) == snapshot_id


def test_a_publish_serves_database_and_report_through_one_pointer(warehouse, tmp_path):
    serving = tmp_path / "serving"
    first = _publish(warehouse, serving, "r1")
    _assert_serves(serving, first.snapshot_id)
    # readers open the documented paths; only `current` changes between publishes
    assert os.readlink(serving / publish.SERVING_FILE) == "current/revops.duckdb"
    assert os.readlink(serving / publish.REPORT_FILE) == "current/report.html"
    kept = serving / publish.SNAPSHOT_DIR / f"{first.snapshot_id}.duckdb"
    assert (serving / publish.SERVING_FILE).stat().st_ino == kept.stat().st_ino  # a hard link
    con = publish.connect_read_only(serving / publish.SERVING_FILE)  # a reader of the old pair
    try:
        second = _publish(warehouse, serving, "r2")
        _assert_serves(serving, second.snapshot_id)
        sql = f"select snapshot_id from {publish.SNAPSHOT_TABLE}"
        assert con.execute(sql).fetchone()[0] == first.snapshot_id  # unchanged under it
    finally:
        con.close()
    # pair folders: the served one, and the one served before it (until the next publish)
    third = _publish(warehouse, serving, "r3")
    pairs = sorted(p.name.rsplit(".", 1)[0] for p in (serving / publish.SERVED_DIR).iterdir())
    assert pairs == [second.snapshot_id, third.snapshot_id]


def test_a_publish_without_a_report_serves_a_page_naming_its_snapshot(warehouse, tmp_path):
    serving = tmp_path / "serving"
    first = _publish(warehouse, serving, "r1")
    second = _publish(warehouse, serving, "r2", report=None)
    _assert_serves(serving, second.snapshot_id)  # never the first snapshot's report
    text = (serving / publish.REPORT_FILE).read_text()
    assert f"No report for snapshot {second.snapshot_id}" in text
    assert first.snapshot_id not in text


def test_a_report_naming_another_snapshot_is_not_served(warehouse, tmp_path):
    serving = tmp_path / "serving"
    first = _publish(warehouse, serving, "r1")
    before = files_under(serving)

    def stale(snapshot_db: Path, out: Path) -> None:  # built from the served file, not the new
        out.write_text(page(first.snapshot_id))

    with pytest.raises(publish.PublishError, match=f"names snapshot '{first.snapshot_id}'"):
        _publish(warehouse, serving, "r2", report=stale)
    _assert_serves(serving, first.snapshot_id)
    assert files_under(serving) == before


def test_disk_full_while_writing_the_report_leaves_the_old_pair(warehouse, tmp_path):
    serving = tmp_path / "serving"
    first = _publish(warehouse, serving, "r1")
    before = files_under(serving)
    with pytest.raises(publish.PublishError, match="No space left on device") as raised:
        _publish(warehouse, serving, "r2", report=disk_full_report)
    assert "served snapshot and report are unchanged" in str(raised.value)
    _assert_serves(serving, first.snapshot_id)
    # no half-written report, and no new snapshot kept without its report
    assert files_under(serving) == before
    assert [s.snapshot_id for s in publish.list_snapshots(serving)] == [first.snapshot_id]
    third = _publish(warehouse, serving, "r3")  # the next publish goes through
    _assert_serves(serving, third.snapshot_id)


def test_disk_full_while_staging_the_pair_leaves_the_old_pair(warehouse, tmp_path, monkeypatch):
    """A file system without hard links copies the files into the pair: the disk fills there."""
    serving = tmp_path / "serving"
    first = _publish(warehouse, serving, "r1")
    before = files_under(serving)

    def full(source: Path, target: Path) -> None:
        target.write_text("half")
        raise OSError(28, "No space left on device", str(target))

    monkeypatch.setattr(publish, "_link_or_copy", full)
    with pytest.raises(OSError, match="No space left on device"):
        _publish(warehouse, serving, "r2")
    _assert_serves(serving, first.snapshot_id)
    assert files_under(serving) == before


KILL_POINTS = [
    # (where the child blocks, which pair is served after SIGKILL there); the child publishes
    # the same warehouse (its mart is carried over from the served file: "copying snapshot"),
    # or one whose mart changed ("copying mrr_by_month" into a new file)
    ("signing", "old"),
    ("copying snapshot", "old"),
    ("copying mrr_by_month", "old"),
    # the mart changed and is updated by its changed rows in the copy of the served file
    ("updating mrr_by_month", "old"),
    ("building the report", "old"),
    ("report", "old"),  # inside the report writer, half the file written
    ("staging the served pair", "old"),
    ("swapping the served pair", "old"),
    ("served", "new"),
]


def _start_child(warehouse: Path, serving: Path, block_at: str, ready: Path, *extra: str):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.publish_support", str(warehouse), str(serving), block_at,
         str(ready), *extra],
        cwd=ROOT, start_new_session=True,
    )  # fmt: skip


def _wait_for(ready: Path, child: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready.exists():
        assert child.poll() is None, f"the child publish exited early ({child.returncode})"
        assert time.monotonic() < deadline, "the child publish never reached the kill point"
        time.sleep(0.02)


@pytest.mark.parametrize(("block_at", "expected"), KILL_POINTS)
def test_kill_9_at_each_publish_step_leaves_one_whole_pair(warehouse, tmp_path, block_at, expected):
    serving = tmp_path / "serving"
    first = _publish(warehouse, serving, "r1")
    ready = tmp_path / "ready"
    extra = ()
    if block_at in ("copying mrr_by_month", "updating mrr_by_month"):
        warehouse = make_warehouse(tmp_path / "changed.duckdb", rows=4)
    if block_at == "updating mrr_by_month":
        extra = ("0",)  # every mart, however small, is updated by its changed rows
    child = _start_child(warehouse, serving, block_at, ready, *extra)
    try:
        _wait_for(ready, child)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    db_id, report_id = served_pair(serving)
    assert db_id == report_id
    if expected == "old":
        assert db_id == first.snapshot_id
    else:
        assert db_id != first.snapshot_id and db_id.endswith("-child")
    assert publish.served_snapshot_id(serving) == db_id
    # the next publish cleans up after the killed one and serves a whole pair
    second = _publish(warehouse, serving, "r2")
    _assert_serves(serving, second.snapshot_id)
    leftovers = [p for p in files_under(serving) if ".tmp" in p]
    assert leftovers == []
    pairs = {p.name.rsplit(".", 1)[0] for p in (serving / publish.SERVED_DIR).iterdir()}
    assert pairs <= {second.snapshot_id, db_id}  # served, and served before


def test_kill_9_at_random_moments_never_mixes_two_snapshots(warehouse, tmp_path):
    """The same, at moments nobody chose: kill a publish (with a report that takes a little
    while) at random and read the served pair each time."""
    serving = tmp_path / "serving"
    _publish(warehouse, serving, "r0")
    rng = random.Random(16)
    seen = set()
    for attempt in range(6):
        ready = tmp_path / f"ready{attempt}"
        child = _start_child(warehouse, serving, "never", ready)
        time.sleep(rng.uniform(0.2, 1.2))  # a child publish takes ~0.5-1 s here
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        db_id, report_id = served_pair(serving)
        assert db_id is not None and db_id == report_id
        seen.add(db_id)
    assert seen  # at least one pair was always served


def test_rollback_to_a_snapshot_without_a_report_builds_one_from_it(warehouse, tmp_path):
    serving = tmp_path / "serving"
    bare = _publish(warehouse, serving, "r1", report=None)
    newer = _publish(warehouse, serving, "r2")
    assert not (serving / publish.SNAPSHOT_DIR / f"{bare.snapshot_id}.html").exists()
    target = publish.rollback(serving, bare.snapshot_id, report=fake_report)
    assert target.snapshot_id == bare.snapshot_id
    _assert_serves(serving, bare.snapshot_id)  # not the newer snapshot's report
    assert newer.snapshot_id not in (serving / publish.REPORT_FILE).read_text()
    # the report built at rollback is kept with its snapshot
    kept = serving / publish.SNAPSHOT_DIR / f"{bare.snapshot_id}.html"
    assert publish.report_snapshot_id(kept) == bare.snapshot_id
    assert (serving / publish.REPORT_FILE).stat().st_ino == kept.stat().st_ino
    publish.rollback(serving, newer.snapshot_id, report=fake_report)
    _assert_serves(serving, newer.snapshot_id)


def test_rollback_to_a_snapshot_whose_report_cannot_be_built_says_so(warehouse, tmp_path):
    """Through the CLI, with the real report builder: this snapshot has no metric marts, so
    its report cannot be built; the page served says so and names the snapshot."""
    from revops.cli import main

    serving = tmp_path / "serving"
    bare = _publish(warehouse, serving, "r1", report=None)
    newer = _publish(warehouse, serving, "r2")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["rollback", "--serving", str(serving), "--to", bare.snapshot_id]) == 0
    _assert_serves(serving, bare.snapshot_id)
    text = (serving / publish.REPORT_FILE).read_text()
    assert f"No report for snapshot {bare.snapshot_id}" in text
    assert "building one at rollback failed" in text and "revops_metrics" in text
    assert newer.snapshot_id not in text
    printed = " ".join(out.getvalue().split())
    assert f"serving snapshot {bare.snapshot_id}" in printed and "has no report" in printed
    assert not (serving / publish.SNAPSHOT_DIR / f"{bare.snapshot_id}.html").exists()
    with contextlib.redirect_stdout(out):
        assert main(["rollback", "--serving", str(serving), "--list"]) == 0
    assert "none (built on rollback)" in out.getvalue()


def test_a_failed_refresh_banner_describes_the_served_snapshot(warehouse, tmp_path, monkeypatch):
    import revops.report

    serving = tmp_path / "serving"
    first = _publish(warehouse, serving, "r1")
    kept = serving / publish.SNAPSHOT_DIR / f"{first.snapshot_id}.html"
    kept_text = kept.read_text()
    monkeypatch.setattr(revops.report, "build_report", fake_report)
    path = publish.record_failed_refresh(serving, "failed-run", errors=["dbt: boom"])
    assert path == serving / publish.REPORT_FILE
    _assert_serves(serving, first.snapshot_id)
    assert "Latest refresh did not publish: failed-run" in path.read_text()
    assert kept.read_text() == kept_text  # what a rollback serves has no banner
    # a full disk while writing the banner: the served report stays, still this snapshot's
    before = files_under(serving)
    monkeypatch.setattr(revops.report, "build_report", disk_full_report)
    with pytest.raises(OSError, match="No space left on device"):
        publish.record_failed_refresh(serving, "failed-run-2")
    _assert_serves(serving, first.snapshot_id)
    assert "failed-run" in path.read_text()
    assert files_under(serving) == before
    # the next publish serves a report without the banner
    second = _publish(warehouse, serving, "r2")
    _assert_serves(serving, second.snapshot_id)
    assert "did not publish" not in (serving / publish.REPORT_FILE).read_text()
    assert publish.latest_failed_refresh(serving) is None


def test_a_serving_folder_of_the_earlier_layout_moves_to_pairs_unchanged(warehouse, tmp_path):
    """Before this layout, revops.duckdb and report.html were hard links swapped one after the
    other. The first publish (or rollback) moves that pair into the new layout, with the
    snapshot's own report when the one served beside it described another snapshot."""
    serving = tmp_path / "serving"
    old = _publish(warehouse, serving, "r1")
    kept = serving / publish.SNAPSHOT_DIR / f"{old.snapshot_id}"
    for name in ("current", publish.SERVING_FILE, publish.REPORT_FILE):
        (serving / name).unlink()
    for pair in (serving / publish.SERVED_DIR).iterdir():
        for child in pair.iterdir():
            child.unlink()
        pair.rmdir()
    (serving / publish.SERVED_DIR).rmdir()
    os.link(kept.with_suffix(".duckdb"), serving / publish.SERVING_FILE)
    # the earlier layout's fault: the report of another snapshot served beside it
    (serving / publish.REPORT_FILE).write_text(page("20261201T000000000000Z-other"))
    publish.rollback(serving, old.snapshot_id)  # moves the folder; serves its own report
    _assert_serves(serving, old.snapshot_id)
    new = _publish(warehouse, serving, "r2")
    _assert_serves(serving, new.snapshot_id)
    assert (serving / publish.SERVING_FILE).is_symlink()
    publish.rollback(serving)
    _assert_serves(serving, old.snapshot_id)


def _materialize_publish(warehouse: Path, serving: Path):
    import dagster as dg

    from orchestration.defs.ingestion.resources import LandingFolder, Warehouse
    from orchestration.defs.publish.assets import serving_snapshot
    from orchestration.defs.publish.resources import ServingFolder
    from orchestration.defs.transform.resources import OrgSettings

    return dg.materialize(
        [serving_snapshot],
        resources={
            "warehouse": Warehouse(path=str(warehouse)),
            # staleness is measured against its newest delivery (none here: nothing is stale)
            "landing": LandingFolder(path=str(warehouse.parent / "landing")),
            "serving": ServingFolder(path=str(serving)),
            "settings_file": OrgSettings(),
        },
        raise_on_error=False,
    )


def test_the_dagster_step_serves_snapshot_and_report_together(
    warehouse, tmp_path, monkeypatch, dbt_manifest
):
    """`serving_snapshot` materializes both assets in one step; a report that fails there
    fails the step and leaves the served pair as it was."""
    from types import SimpleNamespace

    import revops.report

    def report(snapshot_db: Path, out: Path) -> SimpleNamespace:
        fake_report(snapshot_db, out)
        sid = publish.report_snapshot_id(out)
        return SimpleNamespace(snapshot_id=sid, bytes=out.stat().st_size, figures=())

    monkeypatch.setenv("REVOPS_DBT_TARGET", "duckdb")
    monkeypatch.setattr(publish, "mart_tables", lambda _manifest: [MART])
    monkeypatch.setattr(revops.report, "build_report", report)
    serving = tmp_path / "serving"
    result = _materialize_publish(warehouse, serving)
    assert result.success
    events = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert set(events) == {"serving_snapshot", "serving_report"}
    sid = events["serving_snapshot"]["snapshot_id"].value
    assert events["serving_report"]["snapshot_id"].value == sid
    assert events["serving_report"]["path"].value == str(serving.resolve() / "report.html")
    _assert_serves(serving, sid)

    monkeypatch.setattr(revops.report, "build_report", disk_full_report)
    failed = _materialize_publish(warehouse, serving)
    assert not failed.success and failed.get_asset_materialization_events() == []
    _assert_serves(serving, sid)


@pytest.mark.parametrize("symlinks", [True, False])
def test_a_copied_serving_folder_keeps_serving_one_pair(warehouse, tmp_path, symlinks):
    """A backup restored with `cp -a` keeps the links; Python's copytree (and rsync -L) turn
    them into plain files and a plain `current` folder. Both read the same pair, and the next
    publish or rollback goes on from there."""
    import shutil

    serving = tmp_path / "serving"
    first = _publish(warehouse, serving, "r1")
    second = _publish(warehouse, serving, "r2")
    copy = tmp_path / "copy"
    shutil.copytree(serving, copy, symlinks=symlinks)
    assert (copy / publish.SERVING_FILE).is_symlink() is symlinks
    _assert_serves(copy, second.snapshot_id)
    publish.rollback(copy)
    _assert_serves(copy, first.snapshot_id)
    third = _publish(warehouse, copy, "r3")
    _assert_serves(copy, third.snapshot_id)
    assert (copy / "current").is_symlink()
    _assert_serves(serving, second.snapshot_id)  # the original is untouched


def test_rebuilding_the_report_by_hand_serves_it_with_its_snapshot(
    warehouse, tmp_path, monkeypatch, capsys
):
    """`python -m revops.report --serving-db <serving>/revops.duckdb` rebuilds the served
    snapshot's report and serves it as a pair; it never writes over the link readers open."""
    from types import SimpleNamespace

    import revops.report.__main__ as report_main

    def report(snapshot_db: Path, out: Path, attribution_model: str) -> SimpleNamespace:
        fake_report(snapshot_db, out)
        return SimpleNamespace(bytes=out.stat().st_size, figures=())

    serving = tmp_path / "serving"
    published = _publish(warehouse, serving, "r1", report=None)  # served with no report
    monkeypatch.setattr(report_main, "build_report", report)
    assert report_main.main(["--serving-db", str(serving / publish.SERVING_FILE)]) == 0
    assert str(serving.resolve() / publish.REPORT_FILE) in capsys.readouterr().out
    assert (serving / publish.REPORT_FILE).is_symlink()
    _assert_serves(serving, published.snapshot_id)
    assert "No report" not in (serving / publish.REPORT_FILE).read_text()


# -- publishing only the marts that changed -------------------------------------------------

PEOPLE = publish.MartTable(
    "dim_people",
    "One row per person.",
    (
        publish.MartColumn("person_id", "The person."),
        publish.MartColumn("email", "Their e-mail, hashed.", "hash"),
        publish.MartColumn("phone", "Never published.", "drop"),
    ),
)


def _two_marts(path: Path) -> Path:
    """`mrr_by_month` (3 rows) and `dim_people` (4 rows, an e-mail hashed, a phone dropped)."""
    make_warehouse(path)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "create table main.dim_people as select range as person_id, "
            "'P' || range || '@Example.com ' as email, '555-' || range as phone from range(4)"
        )
    finally:
        con.close()
    return path


def _comments(path: Path) -> list[tuple]:
    con = publish.connect_read_only(path)
    try:
        return con.execute(
            "select table_name, column_name, data_type, comment from duckdb_columns() "
            "where database_name = current_database() order by all"
        ).fetchall()
    finally:
        con.close()


def _same_tables_as_a_full_publish(
    snapshot: publish.Snapshot, warehouse: Path, tables, serving: Path
) -> None:
    """Every table of `snapshot` holds what a publish copying every mart gives, with the same
    columns, types and comments (revops_snapshot: all but the id, time and run)."""
    full = _publish_full(warehouse, tables, serving)
    assert full.copied == [t.name for t in tables] and full.carried_over == []
    ours = publish.table_checksums(Path(snapshot.path))
    theirs = publish.table_checksums(Path(full.path))
    assert sorted(ours) == sorted(theirs)
    del ours[publish.SNAPSHOT_TABLE], theirs[publish.SNAPSHOT_TABLE]
    assert ours == theirs
    assert _comments(Path(snapshot.path)) == _comments(Path(full.path))
    assert (snapshot.hashed_columns, snapshot.dropped_columns) == (
        full.hashed_columns,
        full.dropped_columns,
    )
    sql = f"select * exclude (snapshot_id, published_at, run_id) from {publish.SNAPSHOT_TABLE}"
    rows = []
    for path in (snapshot.path, full.path):
        con = publish.connect_read_only(Path(path))
        try:
            rows.append(con.execute(sql).fetchall())
        finally:
            con.close()
    assert rows[0] == rows[1]


def _publish_full(warehouse: Path, tables, serving: Path) -> publish.Snapshot:
    return publish.publish_snapshot(warehouse, serving, tables, run_id="full", carry_over=False)


def test_a_publish_copies_only_the_changed_marts(tmp_path):
    """After a change of one mart, the new snapshot starts as a copy of the served file,
    copies only that mart, and holds exactly what a full publish gives."""
    warehouse = _two_marts(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving"
    tables = [PEOPLE, MART]
    first = publish.publish_snapshot(warehouse, serving, tables, run_id="r1")
    assert first.copied == ["dim_people", "mrr_by_month"] and first.carried_from is None
    assert set(first.signatures) == {"dim_people", "mrr_by_month"}

    con = duckdb.connect(str(warehouse))
    con.execute("update main.mrr_by_month set mrr = mrr + 1 where month_number = 2")
    con.close()
    steps: list[str] = []
    second = publish.publish_snapshot(warehouse, serving, tables, run_id="r2", on_step=steps.append)
    assert second.copied == ["mrr_by_month"]
    assert second.carried_over == ["dim_people"]
    assert second.carried_from == first.snapshot_id
    assert "copying dim_people" not in steps and "copying mrr_by_month" in steps
    assert second.tables == {"dim_people": 4, "mrr_by_month": 3}
    _assert_serves(serving, second.snapshot_id)
    _same_tables_as_a_full_publish(second, warehouse, tables, tmp_path / "full")
    # the snapshot served before is untouched by the copy: readers of it see its numbers
    assert publish.table_checksums(Path(first.path), ["mrr_by_month"]) != (
        publish.table_checksums(Path(second.path), ["mrr_by_month"])
    )
    # the sidecar records what was copied, for the next publish and for `rollback --list`
    kept = {s.snapshot_id: s for s in publish.list_snapshots(serving)}[second.snapshot_id]
    assert (kept.copied, kept.carried_over) == (["mrr_by_month"], ["dim_people"])


def test_a_mart_published_differently_is_copied_again(tmp_path):
    """Same rows, but a new comment, a new personal-data policy, a removed mart or a new
    column: what the published table is made of changed, so it is copied, not carried."""
    warehouse = _two_marts(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving"
    publish.publish_snapshot(warehouse, serving, [PEOPLE, MART], run_id="r1")
    described = publish.MartTable("mrr_by_month", "One row per month (new words).", MART.columns)
    second = publish.publish_snapshot(warehouse, serving, [PEOPLE, described], run_id="r2")
    assert (second.copied, second.carried_over) == (["mrr_by_month"], ["dim_people"])

    email_kept = publish.MartTable(
        "dim_people",
        PEOPLE.description,
        (PEOPLE.columns[0], publish.MartColumn("email", "Kept.", "keep"), PEOPLE.columns[2]),
    )
    third = publish.publish_snapshot(warehouse, serving, [email_kept, described], run_id="r3")
    assert (third.copied, third.carried_over) == (["dim_people"], ["mrr_by_month"])
    _same_tables_as_a_full_publish(third, warehouse, [email_kept, described], tmp_path / "b")

    con = duckdb.connect(str(warehouse))
    con.execute("alter table main.dim_people add column region varchar default 'EMEA'")
    con.close()
    fourth = publish.publish_snapshot(warehouse, serving, [email_kept], run_id="r4")
    assert (fourth.copied, fourth.carried_over) == (["dim_people"], [])
    assert fourth.carried_from is None  # nothing worth carrying: a new file
    assert "region" in dict(_columns_of(Path(fourth.path), "dim_people"))
    assert "mrr_by_month" not in publish.table_checksums(Path(fourth.path))


def _columns_of(path: Path, table: str) -> list[tuple]:
    return [(c, t) for name, c, t, _ in _comments(path) if name == table]


def test_a_removed_mart_is_not_carried_into_the_new_snapshot(tmp_path):
    warehouse = _two_marts(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving"
    publish.publish_snapshot(warehouse, serving, [PEOPLE, MART], run_id="r1")
    second = publish.publish_snapshot(warehouse, serving, [PEOPLE], run_id="r2")
    assert second.carried_over == ["dim_people"] and second.copied == []
    assert "mrr_by_month" not in publish.table_checksums(Path(second.path))
    assert sorted(publish.table_checksums(Path(second.path))) == sorted(
        publish.table_checksums(Path(_publish_full(warehouse, [PEOPLE], tmp_path / "f").path))
    )


def test_a_full_publish_and_a_rollback_start_from_what_is_served(tmp_path):
    """`carry_over=False` copies every mart; after a rollback the served (older) snapshot is
    the one carried from."""
    warehouse = _two_marts(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving"
    first = publish.publish_snapshot(warehouse, serving, [PEOPLE, MART], run_id="r1")
    forced = publish.publish_snapshot(
        warehouse, serving, [PEOPLE, MART], run_id="r2", carry_over=False
    )
    assert forced.copied == ["dim_people", "mrr_by_month"] and forced.carried_from is None
    con = duckdb.connect(str(warehouse))
    con.execute("delete from main.mrr_by_month where month_number = 0")
    con.close()
    publish.rollback(serving, first.snapshot_id, report=fake_report)
    third = publish.publish_snapshot(warehouse, serving, [PEOPLE, MART], run_id="r3")
    assert third.carried_from == first.snapshot_id
    assert (third.copied, third.carried_over) == (["mrr_by_month"], ["dim_people"])
    assert third.tables["mrr_by_month"] == 2
    _same_tables_as_a_full_publish(third, warehouse, [PEOPLE, MART], tmp_path / "full")


def test_a_carried_mart_whose_columns_differ_from_its_record_is_copied_again(tmp_path):
    """The served file's table is checked against the plan before it is kept: a table whose
    columns are not what its signature says (a file edited by hand) is copied again."""
    warehouse = _two_marts(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving"
    first = publish.publish_snapshot(warehouse, serving, [PEOPLE, MART], run_id="r1")
    con = duckdb.connect(first.path)
    con.execute("alter table dim_people drop column email")
    con.close()
    second = publish.publish_snapshot(warehouse, serving, [PEOPLE, MART], run_id="r2")
    assert second.carried_from == first.snapshot_id
    assert (second.copied, second.carried_over) == (["dim_people"], ["mrr_by_month"])
    _same_tables_as_a_full_publish(second, warehouse, [PEOPLE, MART], tmp_path / "full")


# -- updating a changed mart by its changed rows ----------------------------------------------

EVENTS = publish.MartTable(
    "fct_events",
    "One row per event (duplicates allowed).",
    (
        publish.MartColumn("event_id", "The event."),
        publish.MartColumn("account", "Its account."),
        publish.MartColumn("amount", "Its amount."),
        publish.MartColumn("email", "Who, hashed.", "hash"),
    ),
)
# 8 hand-made rows (two duplicated, NULLs), then 40 rows no publish changes: 48 rows
EVENTS_ROWS = """
    (1, 'a', 10.00, 'X@a.com'), (2, 'b', 20.00, null), (3, null, null, 'y@b.com'),
    (4, 'd', 5.00, 'z@c.com'), (4, 'd', 5.00, 'z@c.com'),
    (5, 'e', 7.00, 'w@d.com'), (5, 'e', 7.00, 'w@d.com'), (6, 'f', 1.00, null)
"""


def _events_warehouse(path: Path) -> Path:
    make_warehouse(path)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "create table main.fct_events (event_id integer, account varchar, "
            "amount decimal(18, 2), email varchar, _input_signature varchar)"
        )
        con.execute(f"insert into main.fct_events select *, 'v1' from (values {EVENTS_ROWS})")
        con.execute(
            "insert into main.fct_events select 100 + range, 'filler', range, null, 'v1' "
            "from range(40)"
        )
    finally:
        con.close()
    return path


def _edit(path: Path, *statements: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()


def test_a_changed_mart_is_updated_by_its_changed_rows_as_a_whole_copy_would_be(tmp_path):
    """Updates, a deletion, an insertion, one more and one fewer copy of a duplicated row, and
    NULLs changed either way: only the rows whose count differs are deleted and inserted, and
    the snapshot holds what a publish copying every mart gives, with the same signatures."""
    warehouse = _events_warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving"
    tables = [EVENTS, MART]
    first = publish.publish_snapshot(warehouse, serving, tables, run_id="r1", delta_min_rows=0)
    assert first.delta == [] and first.tables["fct_events"] == 48
    served_before = publish.table_checksums(Path(first.path))
    _edit(
        warehouse,
        "update main.fct_events set amount = 11.00 where event_id = 1",  # -1 +1
        "update main.fct_events set account = 'c' where event_id = 3",  # NULL -> 'c': -1 +1
        "update main.fct_events set _input_signature = 'v2' where event_id = 2",  # not published
        "insert into main.fct_events values (4, 'd', 5.00, 'z@c.com', 'v2')",  # 2 -> 3 copies
        "delete from main.fct_events where event_id = 5",  # 2 copies -> 1: -2 +1
        "insert into main.fct_events values (5, 'e', 7.00, 'w@d.com', 'v2')",
        "delete from main.fct_events where event_id = 6",  # -1
        "insert into main.fct_events values (7, null, null, null, 'v2')",  # +1
    )
    steps: list[str] = []
    second = publish.publish_snapshot(
        warehouse, serving, tables, run_id="r2", delta_min_rows=0, on_step=steps.append
    )
    assert second.carried_from == first.snapshot_id
    assert (second.delta, second.copied, second.carried_over) == (
        ["fct_events"],
        [],
        ["mrr_by_month"],
    )
    # deleted: event 1, event 3, both copies of event 4, both of event 5, event 6 = 7 rows;
    # inserted: event 1, event 3, three copies of event 4, one of event 5, event 7 = 7 rows
    assert second.delta_rows == {"fct_events": [7, 7]}
    assert second.tables["fct_events"] == 48
    assert "updating fct_events by its changed rows" in steps and "copying fct_events" not in steps
    _same_tables_as_a_full_publish(second, warehouse, tables, tmp_path / "full")
    full = publish.list_snapshots(tmp_path / "full")[-1]
    assert second.signatures == full.signatures
    assert publish.table_checksums(Path(first.path)) == served_before  # readers' file untouched
    kept = {s.snapshot_id: s for s in publish.list_snapshots(serving)}[second.snapshot_id]
    assert (kept.delta, kept.delta_rows) == (["fct_events"], {"fct_events": [7, 7]})
    # the chain of copies remembers the size of the file it started from
    assert first.base_bytes == Path(first.path).stat().st_size == second.base_bytes
    assert not first.compacted and not second.compacted

    # a change of most rows is copied whole (more than DELTA_MAX_SHARE of the rows touched)
    _edit(warehouse, "update main.fct_events set amount = amount + 1 where event_id >= 110")
    third = publish.publish_snapshot(warehouse, serving, tables, run_id="r3", delta_min_rows=0)
    assert (third.delta, third.copied) == ([], ["fct_events"])
    _same_tables_as_a_full_publish(third, warehouse, tables, tmp_path / "full3")
    # marts smaller than delta_min_rows are copied whole
    _edit(warehouse, "delete from main.fct_events where event_id = 7")
    fourth = publish.publish_snapshot(warehouse, serving, tables, run_id="r4", delta_min_rows=49)
    assert (fourth.delta, fourth.copied) == ([], ["fct_events", "mrr_by_month"])
    assert fourth.carried_from is None  # 3 of 51 rows to carry: a new file
    fifth = publish.publish_snapshot(warehouse, serving, tables, run_id="r5", delta_min_rows=47)
    assert (fifth.delta, fifth.copied, fifth.carried_over) == (
        [],
        [],
        ["fct_events", "mrr_by_month"],
    )
    _edit(warehouse, "delete from main.fct_events where event_id = 100")
    sixth = publish.publish_snapshot(warehouse, serving, tables, run_id="r6", delta_min_rows=47)
    assert (sixth.delta, sixth.delta_rows) == (["fct_events"], {"fct_events": [1, 0]})
    _same_tables_as_a_full_publish(sixth, warehouse, tables, tmp_path / "full6")


def test_a_served_table_edited_by_hand_is_corrected_by_the_delta(tmp_path):
    """The delta compares the rows the served file holds, not what its sidecar records: rows
    changed there by hand are put back; a changed column type is copied whole."""
    warehouse = _events_warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving"
    first = publish.publish_snapshot(warehouse, serving, [EVENTS], run_id="r1", delta_min_rows=0)
    _edit(Path(first.path), "update fct_events set account = 'edited' where event_id = 100")
    _edit(warehouse, "delete from main.fct_events where event_id = 101")
    second = publish.publish_snapshot(warehouse, serving, [EVENTS], run_id="r2", delta_min_rows=0)
    assert second.delta_rows == {"fct_events": [2, 1]}  # 101 gone; 100 as the warehouse has it
    _same_tables_as_a_full_publish(second, warehouse, [EVENTS], tmp_path / "full")
    _edit(
        Path(second.path),
        "alter table fct_events alter event_id type bigint",
    )
    _edit(warehouse, "delete from main.fct_events where event_id = 102")
    third = publish.publish_snapshot(warehouse, serving, [EVENTS], run_id="r3", delta_min_rows=0)
    assert (third.delta, third.copied) == ([], ["fct_events"])
    _same_tables_as_a_full_publish(third, warehouse, [EVENTS], tmp_path / "full3")


def test_a_served_file_grown_past_compact_growth_is_not_copied(tmp_path, monkeypatch):
    """Deleted rows stay in a copied file: once it is COMPACT_GROWTH times the file its
    copies started from, the next publish writes a new file (and says so)."""
    warehouse = _events_warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving"
    first = publish.publish_snapshot(warehouse, serving, [EVENTS], run_id="r1", delta_min_rows=0)
    assert first.base_bytes == Path(first.path).stat().st_size
    _edit(warehouse, "delete from main.fct_events where event_id = 100")
    monkeypatch.setattr(publish, "COMPACT_GROWTH", 0.5)  # any file is "grown" now
    steps: list[str] = []
    second = publish.publish_snapshot(
        warehouse, serving, [EVENTS], run_id="r2", delta_min_rows=0, on_step=steps.append
    )
    assert second.compacted and second.carried_from is None
    assert (second.copied, second.delta) == (["fct_events"], [])
    assert any(s.startswith("writing a new file: the served one has grown") for s in steps)
    assert second.base_bytes == Path(second.path).stat().st_size
    _same_tables_as_a_full_publish(second, warehouse, [EVENTS], tmp_path / "full")


# -- the publish's parts made cheaper (issue 21, session 11) ---------------------------------


def test_all_signatures_from_one_query_are_each_marts_own(tmp_path):
    """`_content_signatures` signs every mart in one `union all` query: each mart's part is
    its own count and sums (computed here one table at a time), an empty mart signs 0:0:0,
    and a mart missing from the warehouse stops the publish with its name."""
    warehouse = _two_marts(tmp_path / "warehouse.duckdb")
    _edit(warehouse, "create table main.empty_mart (id integer, note varchar)")
    empty = publish.MartTable("empty_mart", "No rows.", ())
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach {publish._sql_str(str(warehouse))} as wh (read_only)")
        tables = [PEOPLE, MART, empty]
        present = publish._warehouse_columns(con, [t.name for t in tables])
        # the columns as the warehouse has them, in order (one catalog query for all marts)
        assert present["mrr_by_month"] == [("month_number", "BIGINT"), ("mrr", "BIGINT")]
        assert present["empty_mart"] == [("id", "INTEGER"), ("note", "VARCHAR")]
        plans = [publish._plan_table(t, present[t.name]) for t in tables]
        signatures = publish._content_signatures(con, plans)
        for plan in plans:
            rows, first, second = con.execute(
                f"select count(*), coalesce(sum(hash(t)), 0)::varchar, "
                f"coalesce(sum(hash(hash(t), 'revops-publish')), 0)::varchar "
                f"from wh.main.{plan.table.name} as t"
            ).fetchone()
            assert signatures[plan.table.name] == f"{plan.spec}:{rows}:{first}:{second}"
        assert signatures["mrr_by_month"].split(":")[1] == "3"
        assert signatures["dim_people"].split(":")[1] == "4"
        assert signatures["empty_mart"] == f"{plans[2].spec}:0:0:0"
        assert publish._content_signatures(con, []) == {}
        with pytest.raises(publish.PublishError, match="mart fct_missing is not in the warehouse"):
            publish._plan_table(publish.MartTable("fct_missing"), [])
    finally:
        con.close()


def test_metadata_rows_go_in_as_one_insert_typed_by_the_table(tmp_path):
    """`_insert_rows` writes every row in one statement; NULLs stay NULL and each value takes
    its column's type (a date, a timestamp, a boolean)."""
    import datetime as dt

    con = duckdb.connect(":memory:")
    try:
        con.execute("create table t (name varchar, day date, seen_at timestamp, n int8, ok bool)")
        publish._insert_rows(con, "t", [])  # nothing to insert: no statement
        rows = [
            ("a", dt.date(2026, 1, 31), dt.datetime(2026, 2, 1, 6, 5), 3, True),
            ("b", None, None, None, False),
            (None, dt.date(2025, 12, 1), None, 0, None),
        ]
        publish._insert_rows(con, "t", rows)
        assert con.execute("select * from t order by rowid").fetchall() == rows
        assert con.execute("select typeof(day), typeof(n) from t limit 1").fetchone() == (
            "DATE",
            "BIGINT",
        )
    finally:
        con.close()


def test_work_in_a_thread_hands_back_its_value_or_its_error():
    assert publish._InThread(lambda a, b: a + b, 2, 3).result() == 5

    def fails() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        publish._InThread(fails).result()


def test_the_snapshot_file_is_on_disk_before_its_sidecar_names_it(warehouse, tmp_path, monkeypatch):
    """The file's fsync runs in a thread beside the verification and the report; the sidecar
    (what makes the file a kept snapshot) is written only once that fsync has finished."""
    events: list[str] = []
    start_sync = publish._fsync_later

    def tracked(path: Path):
        events.append(f"fsync started {path.name}")
        pending = start_sync(path)

        class Waited:
            def result(self):
                pending.result()
                events.append("fsync done")

        return Waited()

    write = publish._write_atomic

    def recorded(path: Path, text: str) -> None:
        events.append(f"write {path.suffix}")
        write(path, text)

    monkeypatch.setattr(publish, "_fsync_later", tracked)
    monkeypatch.setattr(publish, "_write_atomic", recorded)
    snapshot = _publish(warehouse, tmp_path / "serving", "r1")
    assert events == [
        f"fsync started {snapshot.snapshot_id}.duckdb.tmp",
        "fsync done",
        "write .json",
    ]


def test_the_served_file_is_copied_once_while_the_marts_are_signed(tmp_path, monkeypatch):
    """The byte copy of the served file starts beside the signing: a publish that starts from
    it copies it once; one that writes a new file (every mart changed) removes that copy and
    leaves nothing behind."""
    warehouse = _two_marts(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving"
    tables = [PEOPLE, MART]
    first = publish.publish_snapshot(warehouse, serving, tables, run_id="r1")
    copies: list[str] = []
    copy = publish._copy_file

    def counted(source: Path, target: Path) -> None:
        copies.append(source.name)
        copy(source, target)

    monkeypatch.setattr(publish, "_copy_file", counted)
    _edit(warehouse, "update main.mrr_by_month set mrr = mrr + 1 where month_number = 2")
    second = publish.publish_snapshot(warehouse, serving, tables, run_id="r2")
    assert second.carried_from == first.snapshot_id and second.carried_over == ["dim_people"]
    assert copies == [f"{first.snapshot_id}.duckdb"]
    _same_tables_as_a_full_publish(second, warehouse, tables, tmp_path / "full")

    copies.clear()
    _edit(
        warehouse,
        "update main.mrr_by_month set mrr = mrr + 1",
        "update main.dim_people set phone = phone || '0'",
        "insert into main.dim_people values (9, 'new@example.com', '555-9')",
    )
    third = publish.publish_snapshot(warehouse, serving, tables, run_id="r3")
    assert third.carried_from is None and third.copied == ["dim_people", "mrr_by_month"]
    assert copies == [f"{second.snapshot_id}.duckdb"]  # copied early, then not used
    assert [p for p in files_under(serving) if ".tmp" in p] == []
    _assert_serves(serving, third.snapshot_id)
    _same_tables_as_a_full_publish(third, warehouse, tables, tmp_path / "full3")
