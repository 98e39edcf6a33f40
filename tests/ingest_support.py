"""Hand-built landing folders for the ingestion tests: contract-conformant rows and raw bytes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from revops import contract
from revops.contract import ExportObject

DAY = "2025-03-01"
DAY2 = "2025-03-02"


def obj(folder: str) -> ExportObject:
    source, name = folder.split("/")
    return contract.get(source, name)


def _value(col: contract.Column, i: int, folder: str) -> Any:
    if col.type == contract.INTEGER:
        return i
    if col.type == contract.DECIMAL:
        return f"{i}.50"
    if col.type == contract.BOOLEAN:
        return "false" if folder.startswith("salesforce") else False
    if col.type == contract.DATE:
        return f"2025-03-{1 + i % 28:02d}"
    if col.type == contract.TIMESTAMP:
        return f"2025-03-01T10:{i % 60:02d}:00.000Z"
    if col.type == contract.UNIX_TIME:
        return 1_740_000_000 + i
    if col.type == contract.OBJECT:
        return {"n": i, "nested": {"ok": True}}
    if col.type == contract.ARRAY:
        return [{"amount": i, "discount": "di_1"}]
    return f"{col.name}-{i}"


def rows(folder: str, n: int, start: int = 1) -> list[dict[str, Any]]:
    """`n` rows for the object with unique keys: row i carries i in every key column."""
    export = obj(folder)
    out = []
    for i in range(start, start + n):
        row = {c.name: _value(c, i, folder) for c in export.columns}
        for key in export.key:
            col = next(c for c in export.columns if c.name == key)
            # Unique per row and of the key's type (a date key that is no date is quarantined).
            if col.type == contract.INTEGER:
                row[key] = i
            elif col.type == contract.DATE:
                row[key] = (dt.date(2024, 1, 1) + dt.timedelta(days=i)).isoformat()
            else:
                row[key] = f"{key}-{i}"
        out.append(row)
    return out


def csv_bytes(columns: Sequence[str], data: Iterable[dict[str, Any]], newline: str = "\n") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    writer.writerow(columns)
    for row in data:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buf.getvalue().encode("utf-8")


def jsonl_bytes(data: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in data).encode("utf-8")


def write(landing: Path, folder: str, day: str, name: str, content: bytes) -> Path:
    path = landing / folder / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def deliver(
    landing: Path, folder: str, day: str = DAY, n: int = 3, start: int = 1, name: str | None = None
) -> Path:
    """A well-formed delivery file of `n` rows for the object."""
    export = obj(folder)
    data = rows(folder, n, start)
    is_csv = export.format == "csv"
    content = csv_bytes(export.column_names, data) if is_csv else jsonl_bytes(data)
    return write(landing, folder, day, name or f"{export.name}.{export.format}", content)


def deliver_everything(landing: Path, n: int = 3) -> None:
    """Two deliveries of every contract object."""
    for export in contract.OBJECTS:
        deliver(landing, export.folder, DAY, n, start=1)
        deliver(landing, export.folder, DAY2, n, start=n + 1)


def csv_records(path: Path) -> int:
    """Data records of a CSV file by Python's csv module: the oracle the loader must match."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return sum(1 for r in list(csv.reader(fh))[1:] if r)


def jsonl_records(path: Path) -> int:
    """Non-blank lines of a JSON Lines file."""
    return sum(1 for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip())


def query(warehouse: Path, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def ledger(warehouse: Path, path: str | None = None) -> list[dict[str, Any]]:
    """Ledger rows (as dicts), optionally of one file path, oldest first."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        where, params = ("where file_path = ?", [path]) if path else ("", [])
        cur = con.execute(
            f"select * from raw._load_ledger {where} order by finished_at, file_path", params
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
