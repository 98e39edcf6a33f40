"""Settings read from the environment that more than one part of the pipeline shares."""

from __future__ import annotations

import os

MEMORY_LIMIT_ENV = "REVOPS_DUCKDB_MEMORY_LIMIT"
# The same default as profiles.yml (tests/test_refresh_startup.py holds them equal). DuckDB's own
# default is 80% of the machine's memory; a fixed limit keeps a refresh's whole process tree
# (the Dagster process, dbt's process and its DuckDB) under 4 GB at scale `l`, with DuckDB
# spilling to disk beyond it (docs/BENCHMARKS.md).
DEFAULT_MEMORY_LIMIT = "3GB"


def duckdb_memory_limit() -> str:
    """The memory limit of every DuckDB connection that writes: ingestion, dbt, publishing
    ($REVOPS_DUCKDB_MEMORY_LIMIT, e.g. `3GB`, `500MB`)."""
    return os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT


def duckdb_config() -> dict[str, str]:
    """`config=` for `duckdb.connect` of the pipeline's own connections."""
    return {"memory_limit": duckdb_memory_limit()}
