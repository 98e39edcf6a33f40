"""Writing the pipeline's own record tables in the warehouse (`main._revops_*`: what was built
from what, which data tests passed up to where): each is written after a build in one or two
statements, whatever the number of rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import duckdb


def upsert(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Sequence[Any]]) -> int:
    """Insert `rows` (tuples in the column order of `table`) into `table`, each replacing the
    row of the same primary key; one statement (`executemany` costs a round trip per row).
    Returns the number of rows written."""
    if rows:
        row = "(" + ", ".join("?" * len(rows[0])) + ")"
        con.execute(
            f"insert or replace into {table} values {', '.join([row] * len(rows))}",
            [value for row_values in rows for value in row_values],
        )
    return len(rows)


def delete(con: duckdb.DuckDBPyConnection, table: str, column: str, keys: Iterable[str]) -> None:
    """Delete the rows of `table` whose `column` is one of `keys` (one statement)."""
    keys = list(keys)
    if keys:
        con.execute(f"delete from {table} where {column} in (select unnest(?::varchar[]))", [keys])
