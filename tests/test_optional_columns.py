"""Optional means optional: the `xs` company with every optional contract column removed from
every file (keeping one column of each required group) still refreshes, passes every blocking
check and publishes. Figures that need an absent column (amounts, segments, MRR) are null or
empty there, never a failure and never 0 in place of an unknown amount."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import duckdb

from revops import contract
from revops.cli import main


def _kept(obj: contract.ExportObject) -> set[str]:
    keep = set(obj.required_columns)
    for group in obj.required_any:
        keep.add(group[0])
    return keep


def _strip(src: Path, dst: Path) -> int:
    """Copy the landing folder with only the required columns; returns the files written."""
    written = 0
    for obj in contract.OBJECTS:
        keep = _kept(obj)
        for path in sorted((src / obj.folder).glob("*/*")):
            out = dst / path.relative_to(src)
            out.parent.mkdir(parents=True, exist_ok=True)
            if obj.format == "csv":
                with path.open(newline="", encoding="utf-8") as fh:
                    rows = list(csv.reader(fh))
                columns = [i for i, name in enumerate(rows[0]) if name in keep]
                with out.open("w", newline="", encoding="utf-8") as fh:
                    writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
                    writer.writerows([row[i] for i in columns] for row in rows)
            else:
                lines = path.read_text(encoding="utf-8").splitlines()
                objects = [json.loads(line) for line in lines if line.strip()]
                out.write_text(
                    "".join(
                        json.dumps({k: v for k, v in o.items() if k in keep}) + "\n"
                        for o in objects
                    ),
                    encoding="utf-8",
                )
            written += 1
    return written


def test_a_company_without_any_optional_column_publishes(xs_company, tmp_path):
    landing = tmp_path / "landing"
    assert _strip(xs_company.out, landing) > 1000
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            ["refresh", "--landing", str(landing), "--warehouse", str(warehouse),
             "--serving", str(serving)]
        )  # fmt: skip
    assert code == 0, out.getvalue()[-5000:]
    con = duckdb.connect(str(serving / "revops.duckdb"), read_only=True)
    try:
        # no Amount anywhere: wins still count, their amount is unknown (null), never 0
        won, without_amount, amount = con.execute(
            "select sum(opportunities_won), sum(won_without_amount), sum(won_amount) "
            "from sales_ops_metrics where segment = 'All'"
        ).fetchone()
        assert won > 0 and without_amount == won
        assert amount in (None, 0)
        (amounts,) = con.execute("select count(amount_reporting) from fct_opportunities").fetchone()
        assert amounts == 0
    finally:
        con.close()
