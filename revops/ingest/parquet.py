"""The raw layer as Parquet, for the Spark target: one folder per `raw` table of the warehouse.

The DuckDB ingest stays the only loader (ledger, rejects and lineage unchanged); this exports its
result so that Spark reads exactly the same rows and types (docs/SPARK.md).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from revops.ingest.warehouse import RAW_SCHEMA, ident, literal
from revops.settings import duckdb_config

# Each table's folder holds one file under this name; Spark reads the folder.
PARQUET_FILE = "part-0.parquet"


@dataclass(frozen=True)
class ExportedTable:
    table: str
    path: Path
    rows: int


def export_raw_parquet(warehouse: Path, out_dir: Path) -> list[ExportedTable]:
    """Write every table of the warehouse's `raw` schema (the raw tables, `_load_ledger`,
    `_rejects` and `_quarantine`) to `<out_dir>/<table>/part-0.parquet`, replacing what an
    earlier export wrote.

    Column names and types are kept (text stays text, `_row_number` BIGINT, `_delivery_date`
    DATE, `_loaded_at` a UTC timestamp). The warehouse is opened read-only, so other readers
    may hold it; a writer holding it makes this raise `duckdb.IOException`. Each table is
    written to a hidden folder first and renamed into place, so a reader never sees half a file.
    Folders in `out_dir` that are not raw tables are left alone.
    """
    if not Path(warehouse).exists():
        raise FileNotFoundError(f"{warehouse}: no such warehouse")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exported: list[ExportedTable] = []
    with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config()) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
                [RAW_SCHEMA],
            ).fetchall()
        ]
        if not tables:
            raise ValueError(f"{warehouse}: schema {RAW_SCHEMA} has no tables (run the ingest)")
        for table in tables:
            final = out_dir / table
            staging = out_dir / f".{table}.{uuid.uuid4().hex}"
            staging.mkdir()
            try:
                con.execute(
                    f"copy (select * from {RAW_SCHEMA}.{ident(table)}) "
                    f"to {literal(str(staging / PARQUET_FILE))} "
                    "(format parquet, compression zstd)"
                )
                rows = con.execute(f"select count(*) from {RAW_SCHEMA}.{ident(table)}").fetchone()
                if final.exists():
                    old = out_dir / f".{table}.old.{uuid.uuid4().hex}"
                    final.rename(old)
                    staging.rename(final)
                    shutil.rmtree(old)
                else:
                    staging.rename(final)
            finally:
                if staging.exists():
                    shutil.rmtree(staging)
            exported.append(ExportedTable(table=table, path=final, rows=int(rows[0])))
    return exported
