"""Writes simulated tables as daily delivery files through DuckDB (fast, deterministic).

A table is a dict of typed columns plus the simulated day each row is delivered on. DuckDB
formats the values as the vendors do (Salesforce ISO timestamps, Stripe Unix times, minor
units) and writes ordered files that are split into the contract's layout,
`<source>/<object>/<YYYY-MM-DD>/<Object>.<ext>`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from revops.contract import ExportObject
from revops.generator.common import NAT

CHUNK_ROWS = 500_000  # rows per COPY: bounds memory at any scale


@dataclass(frozen=True)
class Col:
    kind: str  # text, int, bool, ts, date, unix, money, raw_sql
    values: np.ndarray | None = None
    scale: int = 2  # digits after the point for money
    sql: str = ""  # for raw_sql: an expression over other columns (JSON structure)


def text(values: np.ndarray) -> Col:
    """Strings; the empty string is written as null."""
    values = np.asarray(values)
    # object arrays of str stay as they are: converting them to fixed-width unicode would
    # cost 4 bytes per character of the longest value, for every row
    return Col("text", values if values.dtype.kind in "OU" else values.astype(str))


def integer(values: np.ndarray, null: np.ndarray | None = None) -> Col:
    values = np.asarray(values, dtype=np.int64)
    if null is not None:
        values = np.where(null, NAT, values)
    return Col("int", values)


def boolean(values: np.ndarray) -> Col:
    return Col("bool", np.asarray(values, dtype=bool))


def timestamp(values: np.ndarray) -> Col:
    """Unix seconds written as ISO 8601 UTC; NAT is null."""
    return Col("ts", np.asarray(values, dtype=np.int64))


def date(values: np.ndarray) -> Col:
    """Unix seconds written as YYYY-MM-DD; NAT is null."""
    return Col("date", np.asarray(values, dtype=np.int64))


def unix(values: np.ndarray) -> Col:
    """Unix seconds as a JSON integer; NAT is null."""
    return Col("unix", np.asarray(values, dtype=np.int64))


def money(minor: np.ndarray, scale: int = 2, null: np.ndarray | None = None) -> Col:
    """Integer minor units written as a decimal with `scale` digits; NAT is null."""
    values = np.asarray(minor, dtype=np.int64)
    if null is not None:
        values = np.where(null, NAT, values)
    return Col("money", values, scale=scale)


def expr(sql: str) -> Col:
    """A JSON value built by a DuckDB expression over the table's hidden helper columns."""
    return Col("raw_sql", sql=sql)


def _render(name: str, col: Col, csv: bool) -> str:
    q = f'"_{name}"'
    nat = str(NAT)
    if col.kind == "text":
        return f"nullif({q}, '')"
    if col.kind == "int":
        inner = q if not csv else f"cast({q} as varchar)"
        return f"case when {q} = {nat} then null else {inner} end"
    if col.kind == "bool":
        return f"case when {q} then 'true' else 'false' end" if csv else q
    if col.kind == "ts":
        return (
            f"case when {q} = {nat} then null else "
            f"strftime(make_timestamp({q} * 1000000), '%Y-%m-%dT%H:%M:%S.000Z') end"
        )
    if col.kind == "date":
        return (
            f"case when {q} = {nat} then null else "
            f"strftime(make_timestamp({q} * 1000000), '%Y-%m-%d') end"
        )
    if col.kind == "unix":
        return f"case when {q} = {nat} then null else {q} end"
    if col.kind == "money":
        if col.scale == 0:
            value = f"cast({q} as decimal(38, 0))"
        else:
            value = (
                f"cast(cast({q} as decimal(38, 0)) / cast({10**col.scale} as decimal(38, 0)) "
                f"as decimal(38, {col.scale}))"
            )
        inner = f"cast({value} as varchar)" if csv else value
        return f"case when {q} = {nat} then null else {inner} end"
    if col.kind == "raw_sql":
        return col.sql
    raise ValueError(f"unknown column kind {col.kind!r} for {name}")


class DeliveryWriter:
    """Writes every object of one generated company below `root`."""

    def __init__(
        self,
        root: Path,
        start_date: dt.date,
        upper_case: tuple[str, ...] = (),
        only_days: tuple[dt.date, dt.date] | None = None,
    ) -> None:
        self.root = root
        self.start_date = start_date
        # write only the deliveries of these days (first, last), beside the files already
        # there: each day's file is the same as when every day is written (`--until`)
        self.only_days = only_days
        # folders whose CSV headers are written in upper case (`ID`, `STAGENAME`), as older
        # Data Loader versions and its all-caps option write them
        self.upper_case = set(upper_case)
        self.con = duckdb.connect()
        # COPY of an ORDER BY query keeps that order (preserve_insertion_order), so files are
        # byte-identical from run to run.
        self.con.execute("set preserve_insertion_order = true")
        self.con.execute("set memory_limit = '2GB'")
        self.con.execute("set enable_progress_bar = false")
        self.files: list[Path] = []
        self.rows: dict[str, int] = {}

    def close(self) -> None:
        self.con.close()

    def write(
        self,
        obj: ExportObject,
        columns: dict[str, Col],
        delivery_day: np.ndarray,
        order: list[str] | None = None,
        helpers: dict[str, np.ndarray] | None = None,
        replace: bool = True,
        chunk_rows: int = CHUNK_ROWS,
    ) -> int:
        """Write one object's rows; `order` names columns that sort rows within a delivery.
        `replace=False` adds deliveries (of other days) to what an earlier call wrote, e.g. the
        same object in the shape of a newer API version from the day an account upgraded.
        `chunk_rows` bounds the rows of one COPY (wide nested JSON lines want fewer)."""
        # Optional columns may be left out (a file of an older API version, an org without
        # the field); required ones and names outside the contract may not.
        missing = {c for c in obj.required_columns if c not in columns}
        extra = set(columns) - set(obj.column_names)
        if missing or extra:
            raise ValueError(f"{obj.folder}: columns differ from the contract: {missing=} {extra=}")
        names = [c for c in obj.column_names if c in columns]
        delivery_day = np.asarray(delivery_day, dtype=np.int64)
        n = delivery_day.size
        if n == 0:
            self.rows.setdefault(obj.folder, 0)
            return 0
        arrays: dict[str, np.ndarray] = {}
        for name, col in columns.items():
            if col.values is not None:
                if col.values.shape[0] != n:
                    raise ValueError(f"{obj.folder}.{name}: {col.values.shape[0]} values, {n} rows")
                arrays[f"_{name}"] = col.values
        for name, values in (helpers or {}).items():
            arrays[name] = np.asarray(values)
        csv = obj.format == "csv"
        upper = csv and obj.folder in self.upper_case
        select = ",\n  ".join(
            f'{_render(name, columns[name], csv)} as "{name.upper() if upper else name}"'
            for name in names
        )
        sort = ", ".join([*(f'"_{c}"' for c in (order or [])), "_row"])
        target = self.root / obj.source / obj.name
        if replace and target.exists() and self.only_days is None:
            shutil.rmtree(target)
        target.mkdir(parents=True, exist_ok=True)
        ext = "csv" if csv else "jsonl"
        tmp = target / f".{obj.name}.part.{ext}"
        options = "format csv, header true, force_quote *" if csv else "format json"
        # Rows go out in chunks of whole delivery days (bounded memory at any scale); each
        # chunk is one ordered COPY, then split by day: much faster than a partitioned COPY,
        # and the order (hence the bytes) is the same on every run.
        by_day = np.argsort(delivery_day, kind="stable")
        days, counts = np.unique(delivery_day, return_counts=True)
        ends = np.cumsum(counts)
        first_day = 0
        while first_day < days.size:
            start_row = ends[first_day - 1] if first_day else 0
            last_day = int(np.searchsorted(ends, start_row + chunk_rows, side="right"))
            last_day = max(last_day, first_day + 1)
            rows = by_day[start_row : ends[last_day - 1]]
            chunk = {"_delivery_day": delivery_day[rows], "_row": rows}
            for key, values in arrays.items():
                chunk[key] = _scannable(values[rows])
            self.con.register("_table", _as_relation(self.con, chunk))
            self.con.execute(
                f"copy (select {select} from _table order by _delivery_day, {sort}) "
                f"to '{tmp}' ({options})"
            )
            self.con.unregister("_table")
            del chunk
            with tmp.open("rb") as src:
                header = src.readline() if csv else b""
                day_counts = zip(
                    days[first_day:last_day].tolist(),
                    counts[first_day:last_day].tolist(),
                    strict=True,
                )
                for day, count in day_counts:
                    date = self.start_date + dt.timedelta(days=day)
                    if self.only_days and not self.only_days[0] <= date <= self.only_days[1]:
                        for _ in itertools.islice(src, count):  # another day's rows: skip
                            pass
                        continue
                    folder = target / date.isoformat()
                    folder.mkdir(exist_ok=self.only_days is not None)
                    path = folder / f"{obj.name}.{ext}"
                    with path.open("wb") as out:
                        out.write(header)
                        out.writelines(itertools.islice(src, count))
                    self.files.append(path)
                if src.read(1):
                    raise RuntimeError(f"{obj.folder}: rows left over after splitting by day")
            first_day = last_day
        tmp.unlink(missing_ok=True)
        self.rows[obj.folder] = n + (0 if replace else self.rows.get(obj.folder, 0))
        return n


def _scannable(values: np.ndarray) -> np.ndarray:
    """DuckDB scans numpy object arrays of str ~20x faster than fixed-width unicode arrays."""
    return values.astype(object) if values.dtype.kind == "U" else values


def _as_relation(con: duckdb.DuckDBPyConnection, data: dict[str, np.ndarray]):
    """A DuckDB relation over numpy columns (DuckDB scans a dict of arrays without pandas)."""
    _columns = data
    return con.sql("select * from _columns")


def struct(fields: dict[str, Col], prefix: str) -> tuple[str, dict[str, np.ndarray]]:
    """A JSON object whose values are all strings (as HubSpot sends properties): the DuckDB
    expression and the helper columns it reads (`_<prefix><n>`). Empty text, NAT and null
    values are JSON null; timestamps are ISO 8601 UTC, booleans `true`/`false`, integers and
    money their digits."""
    parts = []
    helpers: dict[str, np.ndarray] = {}
    for i, (name, col) in enumerate(fields.items()):
        key = f"{prefix}{i}"
        if col.kind == "raw_sql":
            parts.append(f"'{name}': {col.sql}")
            continue
        helpers[f"_{key}"] = col.values
        parts.append(f"'{name}': {_render(key, col, csv=True)}")
    return "{" + ", ".join(parts) + "}", helpers
