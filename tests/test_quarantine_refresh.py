"""End to end (issue 16): many bad cells in one load are a systemic break, not a bad cell:
the rows are quarantined (in no model) and the blocking share check stops publishing.

On a copy of the session's published xs company (tests/conftest.py `xs_published`): the
refresh loads only the new file.
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

BAD_IDS = tuple(f"00QQUARANTINE1{i:03d}" for i in range(12))


def _refresh(landing: Path, warehouse: Path, serving: Path) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            ["refresh", "--landing", str(landing), "--warehouse", str(warehouse),
             "--serving", str(serving)]
        )  # fmt: skip
    return code, out.getvalue()


def _staged_leads(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select lead_id, number_of_employees from stg_salesforce__leads "
            f"where lead_id in {BAD_IDS!r} order by 1"
        ).fetchall()
    finally:
        con.close()


def test_a_systemic_break_is_quarantined_and_blocks_publishing(xs_published, tmp_path: Path):
    """A delivery whose every row has a date in another format: its load quarantines 12 of 12
    rows (at least `quarantine_block_min_rows`, 10, and more than `quarantine_block_share`,
    1%), so the blocking check stops publishing, naming the object, and the served snapshot
    stays the one before. (A few bad cells publish around the quarantine and a corrected
    version releases them: the malformed-file corpus, cases `bad_cells` and
    `corrected_version_releases`.)"""
    landing, warehouse, serving = (
        tmp_path / "landing",
        tmp_path / "warehouse.duckdb",
        tmp_path / "serving",
    )
    shutil.copytree(xs_published["landing"], landing)
    shutil.copy(xs_published["warehouse"], warehouse)
    shutil.copytree(xs_published["serving"], serving, symlinks=True)
    served_before = publish.served_snapshot_id(serving)
    lead_files = sorted((landing / "salesforce" / "Lead").glob("*/*.csv"))
    day = lead_files[-1].parent
    with lead_files[-1].open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header, template = list(reader.fieldnames or []), next(reader)
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
    assert "assert_no_open_quarantined_rows" in output
    bad_path = str(broken.relative_to(landing))
    assert f"file_path={bad_path}, row_number=1, column_name=CreatedDate" in output
    assert publish.served_snapshot_id(serving) == served_before
    assert _staged_leads(warehouse) == []  # in no model
