"""End to end (issue 16): a Lead file with `yesterday` in CreatedDate and text in
NumberOfEmployees no longer stops the morning. `revops refresh` publishes, the rows are in the
quarantine (file, row, column) and in no model, the warning check names them; a corrected
re-delivery releases them and the leads reach staging.

One test, on a copy of the session's published xs company (tests/conftest.py `xs_published`):
each refresh then loads only the new files.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
from pathlib import Path

import duckdb
import pytest

from revops import publish
from revops.cli import main

pytestmark = pytest.mark.slow

BAD_IDS = ("00QQUARANTINE0001", "00QQUARANTINE0002")


def _refresh(landing: Path, warehouse: Path, serving: Path) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            ["refresh", "--landing", str(landing), "--warehouse", str(warehouse),
             "--serving", str(serving)]
        )  # fmt: skip
    return code, out.getvalue()


def _lead_file(path: Path, header: list[str], template: dict[str, str], cells: list[dict]):
    """Leads copied from a delivered one, with new ids and the given cells."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    for lead_id, changes in zip(BAD_IDS, cells, strict=True):
        writer.writerow(template | {"Id": lead_id} | changes)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _served(serving: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(serving / "revops.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _staged_leads(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select lead_id, number_of_employees from stg_salesforce__leads "
            f"where lead_id in {BAD_IDS!r} order by 1"
        ).fetchall()
    finally:
        con.close()


def test_bad_cells_are_quarantined_published_around_and_released(xs_published, tmp_path: Path):
    landing, warehouse, serving = (
        tmp_path / "landing",
        tmp_path / "warehouse.duckdb",
        tmp_path / "serving",
    )
    shutil.copytree(xs_published["landing"], landing)
    shutil.copy(xs_published["warehouse"], warehouse)
    lead_files = sorted((landing / "salesforce" / "Lead").glob("*/*.csv"))
    day = lead_files[-1].parent
    with lead_files[-1].open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header, template = list(reader.fieldnames or []), next(reader)
    bad = day / "Lead_extra.csv"
    _lead_file(bad, header, template, [{"CreatedDate": "yesterday"}, {"NumberOfEmployees": "lots"}])
    bad_path = str(bad.relative_to(landing))

    code, output = _refresh(landing, warehouse, serving)

    # Published, with the quarantine named in the summary and the warning check.
    assert code == 0, output[-5000:]
    assert "2 quarantined" in output
    assert "assert_no_open_quarantined_rows" in output
    assert f"file_path={bad_path}, row_number=1, column_name=CreatedDate" in output
    quarantined = _served(
        serving,
        "select file_path, row_number, column_name, delivered_value, quarantine_rule, "
        "is_released from data_quality_quarantine order by row_number",
    )
    assert quarantined == [
        (bad_path, 1, "CreatedDate", "yesterday", "cast:timestamp", False),
        (bad_path, 2, "NumberOfEmployees", "lots", "cast:integer", False),
    ]
    assert _staged_leads(warehouse) == []  # in no model
    report = (serving / "report.html").read_text(encoding="utf-8")
    assert 'id="quarantine"' in report and "Lead_extra.csv" in report

    # The corrected version, delivered the next morning, releases both rows.
    fixed = day / "Lead_fix.csv"
    _lead_file(fixed, header, template, [{}, {"NumberOfEmployees": "120"}])

    code, output = _refresh(landing, warehouse, serving)

    assert code == 0, output[-5000:]
    released = _served(serving, "select is_released, released_by_file from data_quality_quarantine")
    assert released == [(True, str(fixed.relative_to(landing)))] * 2
    assert "assert_no_open_quarantined_rows" not in output
    employees = template["NumberOfEmployees"]
    assert _staged_leads(warehouse) == [
        (BAD_IDS[0], int(employees) if employees else None),
        (BAD_IDS[1], 120),
    ]

    # Systemic breakage: a delivery whose every row has a date in another format. Its load
    # quarantines 12 of 12 rows (at least `quarantine_block_min_rows`, 10, and more than
    # `quarantine_block_share`, 1%): the blocking check stops publishing, naming the object,
    # and the served snapshot stays the one before.
    served_before = publish.served_snapshot_id(serving)
    broken = day / "Lead_broken.csv"
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    for i in range(12):
        writer.writerow(template | {"Id": f"00QQUARANTINE1{i:03d}", "CreatedDate": "06/12/2026"})
    broken.write_text(buf.getvalue(), encoding="utf-8")

    code, output = _refresh(landing, warehouse, serving)

    assert code == 1, output[-5000:]
    assert "12 quarantined" in output
    assert "assert_quarantine_share_below_threshold" in output
    assert "object_name=Lead" in output
    assert publish.served_snapshot_id(serving) == served_before
