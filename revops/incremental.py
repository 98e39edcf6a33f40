"""When the incremental dbt models must be rebuilt from the raw tables.

An incremental model only processes raw rows loaded since its last run, so two things would
silently leave it different from a rebuild:

* **its logic changed**: an edit of its SQL, of a macro it calls (`normalize_email`, ...),
  of its config, of a model, macro or seed upstream of it (through views and tables, up to
  the next incremental model: `segment_bands` read through `stg_settings__segment_bands`),
  of an org setting it reads (`setting('reporting_currency')`), or of the org's override rows
  of a mapping it reads (`raw.settings__<seed>`) would apply to new rows only;
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
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from revops import settings as org_settings
from revops.ingest.warehouse import REMOVALS_TABLE, connect

# The dbt source of the org's mapping override rows (`raw.settings__<seed>`)
MAPPING_SOURCE = "settings"

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


def _macro_closure(
    names: Iterable[str],
    macros: Mapping[str, Any],
    implementations: Mapping[str, list[str]] | None = None,
) -> set[str]:
    """The macros named and every macro they call (their adapter implementations included),
    transitively. `implementations`: `_dispatch_implementations(macros)`, when the caller
    walks many closures (computing it takes as long as a walk)."""
    if implementations is None:
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


def _is_incremental(node: Mapping[str, Any]) -> bool:
    return (
        node.get("resource_type") == "model"
        and node.get("config", {}).get("materialized") == "incremental"
    )


def _upstream(uid: str, nodes: Mapping[str, Any]) -> set[str]:
    """Every node and source `uid` reads, transitively through the models that are not
    incremental (views, tables, ephemeral models): an upstream incremental model stops the walk,
    since its own fingerprint covers what lies behind it."""
    seen: set[str] = set()
    todo = list(nodes[uid]["depends_on"].get("nodes", []))
    while todo:
        upstream = todo.pop()
        if upstream in seen:
            continue
        seen.add(upstream)
        node = nodes.get(upstream)
        if node is not None and node["resource_type"] == "model" and not _is_incremental(node):
            todo.extend(node.get("depends_on", {}).get("nodes", []))
    return seen


def _content_checksum(node: Mapping[str, Any]) -> str:
    """dbt's checksum of a node, which is its file's content except for a seed over 1 MiB:
    dbt then checksums its path, so the content is hashed here."""
    checksum = node["checksum"]
    if checksum.get("name") == "path" and node.get("root_path"):
        path = Path(node["root_path"]) / node["original_file_path"]
        if path.is_file():
            return hashlib.sha256(path.read_bytes()).hexdigest()
    return checksum["checksum"]


class _NamedSettings:
    """The settings that texts name as whole words, for every setting at once: one pattern of
    all names, longest first, and one search per distinct text (the same macros are read for
    many models). Setting names are identifiers, so a whole-word match of one cannot hide a
    whole-word match of another inside it."""

    def __init__(self, names: Iterable[str]) -> None:
        ordered = sorted(names, key=len, reverse=True)
        self.pattern = (
            re.compile(
                rf"(?<![A-Za-z0-9_])({'|'.join(re.escape(n) for n in ordered)})(?![A-Za-z0-9_])"
            )
            if ordered
            else None
        )
        self._found: dict[str, frozenset[str]] = {}

    def __call__(self, texts: Iterable[str]) -> set[str]:
        found: set[str] = set()
        if self.pattern is None:
            return found
        for text in texts:
            names = self._found.get(text)
            if names is None:
                names = self._found[text] = frozenset(self.pattern.findall(text))
            found |= names
        return found


def model_fingerprints(
    manifest: Mapping[str, Any],
    settings: Mapping[str, str] | None = None,
    mapping_rows: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Per incremental model (by name), a hash of what decides its rows: its SQL and config;
    every node it reads, transitively through models that are not incremental (their SQL and
    config checksums, the seeds' contents), and every macro these models call (transitively,
    adapter implementations included); the values of the org settings (`settings`: setting ->
    value, see `dbt_setting_values`) named in any of that code; and, per mapping override
    source (`source('settings', <seed>)`) among the nodes read, the digest of its rows
    (`mapping_rows`: seed -> digest, see `mapping_override_digests`)."""
    nodes, macros = manifest["nodes"], manifest.get("macros", {})
    sources = manifest.get("sources", {})
    implementations = _dispatch_implementations(macros)
    named_settings = _NamedSettings(settings or {})
    out = {}
    for uid, node in nodes.items():
        if not _is_incremental(node):
            continue
        upstream = _upstream(uid, nodes)
        models = [node] + [
            nodes[u]
            for u in sorted(upstream)
            if u in nodes and nodes[u]["resource_type"] == "model"
        ]
        called = _macro_closure(
            [m for model in models for m in model["depends_on"].get("macros", [])],
            macros,
            implementations,
        )
        digest = hashlib.sha256()
        digest.update(node["raw_code"].encode())
        digest.update(json.dumps(node["config"], sort_keys=True, default=str).encode())
        for name in sorted(called):
            digest.update(f"\nmacro {name}\n{macros[name].get('macro_sql', '')}".encode())
        for upstream_uid in sorted(upstream):
            upstream_node = nodes.get(upstream_uid)
            if upstream_node is not None:
                checksum = _content_checksum(upstream_node)
                digest.update(f"\nnode {upstream_uid} {checksum}".encode())
            source = sources.get(upstream_uid)
            if source is not None and source.get("source_name") == MAPPING_SOURCE:
                rows = (mapping_rows or {}).get(source["name"], "no rows")
                digest.update(f"\nmapping {source['name']} {rows}".encode())
        texts = [model["raw_code"] for model in models]
        texts += [macros[name].get("macro_sql", "") for name in called]
        for name in sorted(named_settings(texts)):
            digest.update(f"\nsetting {name}={settings[name]}".encode())
        out[node["name"]] = digest.hexdigest()
    return out


def dbt_setting_values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The value each org setting has for dbt (the macro `setting()`): `REVOPS_<NAME>` when set
    and not empty, else its default in dbt_project.yml `vars:`. Pass the environment dbt will
    run with: the settings file exported (`revops.settings.settings_env`) over the process's."""
    environ = os.environ if environ is None else environ
    values = {}
    for name, default in org_settings.dbt_settings().items():
        value = environ.get(org_settings.env_name(name)) or ""
        values[name] = value if value.strip() else json.dumps(default, default=str)
    return values


def _rows_digest(columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    lines = sorted(json.dumps(list(row), default=str) for row in rows)
    return hashlib.sha256(
        (json.dumps(list(columns)) + "\n" + "\n".join(lines)).encode()
    ).hexdigest()


def mapping_override_digests(warehouse: Path) -> dict[str, str]:
    """Per mapping seed, a digest of the org's override rows in `raw.settings__<seed>` (what
    `stg_settings__<seed>` merges with the seed), independent of row order. A table not
    written yet (or no warehouse yet) has the digest of no rows: dbt then reads the seed as
    it is, as with an empty table."""
    seeds = org_settings.mapping_seeds()
    out = {seed.name: _rows_digest(seed.columns, []) for seed in seeds}
    if not Path(warehouse).exists():
        return out
    con = connect(Path(warehouse))
    try:
        for seed in seeds:
            if _table_exists(con, f"{org_settings.MAPPING_SCHEMA}.{seed.table}"):
                result = con.execute(f'select * from {org_settings.MAPPING_SCHEMA}."{seed.table}"')
                columns = [column[0] for column in result.description]
                out[seed.name] = _rows_digest(columns, result.fetchall())
    finally:
        con.close()
    return out


def current_fingerprints(
    manifest: Mapping[str, Any],
    warehouse: Path,
    environ: Mapping[str, str] | None = None,
    mapping_rows: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The fingerprints of this build: `model_fingerprints` with the settings dbt will see
    (`environ`: the process's environment with the settings file exported over it) and the
    override rows now in the warehouse (`mapping_rows`, when the caller read them already:
    `mapping_override_digests`)."""
    if mapping_rows is None:
        mapping_rows = mapping_override_digests(warehouse)
    return model_fingerprints(manifest, dbt_setting_values(environ), mapping_rows)


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
