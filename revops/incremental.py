"""When the incremental dbt models must be rebuilt from the raw tables.

An incremental model only processes raw rows loaded since its last run, so two things would
silently leave it different from a rebuild:

* **its logic changed**: an edit of its SQL, of a macro it calls (`normalize_email`, ...),
  of its config, or of a seed it reads (`currency_exponents`) would apply to new rows only;
* **raw rows it was built from were removed** (`forget_file`, before a corrected file is
  loaded again).

Each build records, per incremental model, a fingerprint of its logic (from dbt's manifest)
and when it was built, in the warehouse table `main._revops_incremental_models`. Before the
next build, `rebuild_reasons` compares: any difference, a model with no record, or a raw
removal after a model was built makes the refresh run `dbt build --full-refresh`. Rebuilding
every incremental model is the simple, safe answer to an event that happens rarely.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from revops.ingest.warehouse import REMOVALS_TABLE, connect

STATE_TABLE = "main._revops_incremental_models"
STATE_DDL = f"""
create table if not exists {STATE_TABLE} (
    model varchar primary key,
    fingerprint varchar not null,
    built_at timestamptz not null
)
"""


def _dispatch_implementations(macros: Mapping[str, Any]) -> dict[str, list[str]]:
    """Per macro id, the ids of its adapter implementations (`macro.p.duckdb__x`,
    `macro.p.default__x` for `macro.p.x`): `adapter.dispatch` calls them at run time, so dbt's
    `depends_on` does not list them."""
    out: dict[str, list[str]] = {}
    for uid in macros:
        package, _, name = uid.rpartition(".")
        prefix, sep, base = name.partition("__")
        if sep and prefix.isalpha() and base:
            out.setdefault(f"{package}.{base}", []).append(uid)
    return out


def _macro_closure(names: Iterable[str], macros: Mapping[str, Any]) -> set[str]:
    """The macros named and every macro they call (their adapter implementations included),
    transitively."""
    implementations = _dispatch_implementations(macros)
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in macros:
            continue
        seen.add(name)
        todo.extend(macros[name].get("depends_on", {}).get("macros", []))
        todo.extend(implementations.get(name, []))
    return seen


def model_fingerprints(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Per incremental model (by name), a hash of what decides its rows: its SQL and config,
    every macro it calls (transitively), and the checksums of the nodes it reads."""
    nodes, macros = manifest["nodes"], manifest.get("macros", {})
    out = {}
    for node in nodes.values():
        if node["resource_type"] != "model":
            continue
        if node.get("config", {}).get("materialized") != "incremental":
            continue
        digest = hashlib.sha256()
        digest.update(node["raw_code"].encode())
        digest.update(json.dumps(node["config"], sort_keys=True, default=str).encode())
        for name in sorted(_macro_closure(node["depends_on"].get("macros", []), macros)):
            digest.update(f"\nmacro {name}\n{macros[name].get('macro_sql', '')}".encode())
        for uid in sorted(node["depends_on"].get("nodes", [])):
            upstream = nodes.get(uid)
            if upstream is not None:
                digest.update(f"\nnode {uid} {upstream['checksum']['checksum']}".encode())
        out[node["name"]] = digest.hexdigest()
    return out


def _table_exists(con, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def rebuild_reasons(warehouse: Path, fingerprints: Mapping[str, str]) -> list[str]:
    """Why the incremental models need `--full-refresh` before this build; empty if they do
    not. A warehouse without the models' tables yet needs nothing."""
    warehouse = Path(warehouse)
    if not fingerprints or not warehouse.exists():
        return []
    con = connect(warehouse)
    try:
        built = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        } & set(fingerprints)
        if not built:
            return []  # a first build: nothing incremental exists yet
        stored: dict[str, tuple[str, dt.datetime]] = {}
        if _table_exists(con, STATE_TABLE):
            stored = {
                model: (fingerprint, built_at)
                for model, fingerprint, built_at in con.execute(
                    f"select model, fingerprint, built_at from {STATE_TABLE}"
                ).fetchall()
            }
        reasons = []
        for model in sorted(fingerprints):
            if model not in stored:
                reasons.append(f"{model}: no record of the logic it was built with")
            elif stored[model][0] != fingerprints[model]:
                reasons.append(f"{model}: its SQL, config, macros or inputs changed")
        if stored and _table_exists(con, REMOVALS_TABLE):
            oldest_build = min(built_at for _, built_at in stored.values())
            removed = con.execute(
                f"select count(*), max(removed_at) from {REMOVALS_TABLE} where removed_at > ?",
                [oldest_build],
            ).fetchone()
            if removed[0]:
                reasons.append(
                    f"raw rows of {removed[0]} file(s) were removed since the last build "
                    f"(forget_file, latest {removed[1]:%Y-%m-%d %H:%M} UTC)"
                )
        return reasons
    finally:
        con.close()


def record_built(warehouse: Path, fingerprints: Mapping[str, str], models: Iterable[str]) -> None:
    """Record that `models` (incremental models just built successfully) carry the logic of
    `fingerprints`."""
    rows = [(m, fingerprints[m]) for m in sorted(set(models)) if m in fingerprints]
    if not rows:
        return
    now = dt.datetime.now(dt.UTC)
    con = connect(Path(warehouse))
    try:
        con.execute(STATE_DDL)
        con.executemany(
            f"insert or replace into {STATE_TABLE} values (?, ?, ?)",
            [(model, fingerprint, now) for model, fingerprint in rows],
        )
    finally:
        con.close()


def built_models(run_results: Mapping[str, Any]) -> set[str]:
    """Names of the models dbt's run_results.json reports as built successfully."""
    return {
        result["unique_id"].split(".")[-1]
        for result in run_results.get("results", [])
        if result["unique_id"].startswith("model.") and result.get("status") == "success"
    }
