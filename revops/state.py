"""What a published snapshot was built from, as two fingerprints kept in its sidecar JSON:
the project (models, seeds, macros, tests, settings, the pipeline's code and the dbt versions)
and the load ledger. A refresh whose fingerprints equal the served snapshot's, with no file in
the landing folder the ledger does not know, would publish the same snapshot: it is a no-op
(revops/noop.py, docs/SERVING.md)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import duckdb

from revops import settings
from revops.ingest.warehouse import LEDGER_TABLE, REMOVALS_TABLE

PROJECT_DIR = Path(__file__).resolve().parent.parent
# What the build reads besides the data: dbt's project files and the Python that ingests,
# tests and publishes (a change to the report or the publisher changes the snapshot too).
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "selectors.yml", "packages.yml")
PROJECT_FOLDERS = ("models", "macros", "seeds", "data-tests", "analyses", "snapshots")
CODE_FOLDERS = ("revops", "orchestration")


def project_fingerprint(project_dir: Path = PROJECT_DIR) -> str:
    """A hash of the project files, the pipeline's Python code, the dbt packages' versions,
    the settings file's content and every setting's environment variable (REVOPS_<NAME> of
    docs/CONFIGURATION.md, DBT_*). Paths (landing, warehouse, serving) are not part of it:
    the ledger fingerprint says which data was built."""
    from revops.refresh import _dbt_distributions

    digest = hashlib.sha256()
    for name, version in sorted(_dbt_distributions()):
        digest.update(f"package {name}=={version}\n".encode())
    names = {settings.env_name(s) for s in settings.setting_names(project_dir)}
    for key in sorted(k for k in os.environ if k in names or k.startswith("DBT_")):
        digest.update(f"env {key}={os.environ[key]}\n".encode())
    settings_file = settings.settings_path()
    if settings_file is not None:
        with contextlib.suppress(OSError):
            digest.update(b"settings file\n" + settings_file.read_bytes())
    files = [project_dir / name for name in PROJECT_FILES]
    for folder in PROJECT_FOLDERS:
        files.extend(sorted((project_dir / folder).rglob("*")))
    for folder in CODE_FOLDERS:
        files.extend(sorted((project_dir / folder).rglob("*.py")))
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(f"file {path.relative_to(project_dir)}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _exists(con: duckdb.DuckDBPyConnection, catalog: str | None, qualified: str) -> bool:
    schema, table = qualified.split(".")
    where = "schema_name = ? and table_name = ?" + (" and database_name = ?" if catalog else "")
    params = [schema, table] + ([catalog] if catalog else [])
    (found,) = con.execute(f"select count(*) from duckdb_tables() where {where}", params).fetchone()
    return bool(found)


def ledger_fingerprint(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> str:
    """A hash of the load ledger (every attempt: load id, file, status, bytes, time) and of the
    raw rows removed by `forget_file`, read through `con` (`catalog`: the warehouse's name when
    it is attached under another). Any load, failure, duplicate or removal changes it."""
    prefix = f"{catalog}." if catalog else ""
    parts = []
    for table, columns in (
        (LEDGER_TABLE, "load_id, file_path, status, file_sha256, file_mtime_ns, finished_at"),
        (REMOVALS_TABLE, "raw_table, file_path, rows_removed, removed_at"),
    ):
        if not _exists(con, catalog, table):
            parts.append(f"{table}: none")
            continue
        count, total = con.execute(
            f"select count(*), coalesce(sum(hash({columns})), 0)::varchar from {prefix}{table}"
        ).fetchone()
        parts.append(f"{table}: {count} {total}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
