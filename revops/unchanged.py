"""Which dbt models (and seeds) a build can leave as they are, with their tests.

A daily increment rarely touches every source: a Salesforce company has no HubSpot delivery,
a Stripe-only sync brings no ad spend. Rebuilding the models fed only by unchanged sources
gives the same rows; their tests give the same verdicts. `plan` works out, before `dbt build`,
which models and seeds can be left out: `dbt build --indirect-selection cautious --exclude
<names>` leaves them out with every test that reads only left-out nodes; a test that also
reads a node that is built (a relationships test to a rebuilt model) still runs.

A model or seed is left out only when ALL of these hold (anything else builds it):

* it does not depend on "today": not tagged `uses_today` and none of its code, config or the
  macros it calls names the run's date (`current_date`, `now()`, `run_started_at`, ...; see
  `uses_today`); tests/test_unchanged.py fails when such a model is not tagged;
* it exists in the warehouse and its last build succeeded (`main._revops_nodes_current`: a
  record per node, written after each build for the nodes that succeeded or passed, deleted
  for those that failed, warned or were skipped);
* its logic is the same as at that build: its SQL, config, columns' contract, the macros it
  calls, the org settings named in that code, the org's mapping override rows it reads, and the
  same of every node upstream of it (`node_fingerprints`, built on revops/incremental.py's);
* no raw table it reads, transitively, received or lost rows since (`input_signatures`: rows,
  newest `_loaded_at`, columns and removals per raw table; the full content of the small
  tables without `_loaded_at`);
* nothing upstream of it is built in this run;
* every test that reads only left-out nodes passed at its last run with the same definition
  and inputs (a new or edited test, or one that warned or failed, must run: its model is built);
* the last build is younger than the `test_full_recheck_days` setting (7 days by default), and
  the refresh is not a `--full-refresh`, `--full-recheck` or `--all-models`.

A mart is left out under the same rules. The publish step depends on every mart, and Dagster
skips a step when an asset upstream of it emits no output: so the dbt asset emits, for each
left-out mart and before dbt's outputs (Dagster wants them in the order of the graph), an
output whose metadata says it was left out and since which run (`Plan.left_out_marts`,
`left_out_metadata`); its tests emit nothing (docs/DECISIONLOG.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revops import incremental, records
from revops.ingest.warehouse import REMOVALS_TABLE, connect

STATE_TABLE = "main._revops_nodes_current"
STATE_DDL = f"""
create table if not exists {STATE_TABLE} (
    unique_id varchar primary key,
    fingerprint varchar not null,
    inputs varchar not null,
    run_id varchar not null,
    built_at timestamptz not null
)
"""
LEFT_OUT_FILE = "dbt_left_out.json"  # beside the warehouse: what the last build left out
TODAY_TAG = "uses_today"  # a model whose rows depend on the run's date: always built
MARTS_FOLDER = "marts"
BUILT_TYPES = ("model", "seed")
# What names the run's date in SQL or Jinja (case-insensitive, whole words).
TODAY_PATTERN = re.compile(
    r"(?<![A-Za-z0-9_])("
    r"current_date|current_timestamp|current_time|localtimestamp|localtime|now\s*\(|today\s*\("
    r"|getdate\s*\(|sysdate|run_started_at|invocation_id|modules\.datetime"
    r"|snapshot_get_time|get_current_time"
    r")(?![A-Za-z0-9_])",
    re.IGNORECASE,
)
LEFT_OUT_KEY = "revops/left_out"  # the metadata of a left-out mart's output: since which run
TEST_REASON = "a test of it must run (new, edited, new inputs, or not passed last time)"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _parents(node: Mapping[str, Any]) -> list[str]:
    return list(node.get("depends_on", {}).get("nodes", []))


def _topological(nodes: Mapping[str, Any]) -> list[str]:
    """Node ids, every node after the nodes it depends on."""
    order: list[str] = []
    state: dict[str, int] = {}
    for start in sorted(nodes):
        if start in state:
            continue
        stack = [(start, iter(sorted(_parents(nodes[start]))))]
        state[start] = 1
        while stack:
            uid, parents = stack[-1]
            for parent in parents:
                if parent in nodes and parent not in state:
                    state[parent] = 1
                    stack.append((parent, iter(sorted(_parents(nodes[parent])))))
                    break
            else:
                stack.pop()
                state[uid] = 2
                order.append(uid)
    return order


class _Macros:
    """The project's macros, with what is asked of them per node computed once per macro: the
    closure of the macros a node calls (incremental._macro_closure's walk, with the adapter
    implementations listed once), the settings and uses of the date each macro names."""

    def __init__(self, macros: Mapping[str, Any], settings: Iterable[str] = ()) -> None:
        from revops.test_scope import SCOPE_MACROS

        self.macros = macros
        self.scope_macros = list(SCOPE_MACROS)
        self.implementations = incremental._dispatch_implementations(macros)
        self.named_settings = incremental._NamedSettings(settings)
        self._today: dict[str, bool] = {}

    def closure(self, node: Mapping[str, Any]) -> set[str]:
        """The macros the node calls, transitively (a test's generic-test macros included)."""
        todo = list(node.get("depends_on", {}).get("macros", []))
        if node.get("resource_type") == "test":
            todo += self.scope_macros
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen or name not in self.macros:
                continue
            seen.add(name)
            todo.extend(self.macros[name].get("depends_on", {}).get("macros", []))
            todo.extend(self.implementations.get(name, []))
        return seen

    def settings_named(self, node: Mapping[str, Any], closure: Iterable[str]) -> set[str]:
        """The settings named in the node's code or config or a macro of `closure`."""
        texts = [node.get("raw_code", ""), _json(node.get("config", {}))]
        texts += [self.macros[name].get("macro_sql", "") for name in closure]
        return self.named_settings(texts)

    def names_today(self, node: Mapping[str, Any]) -> bool:
        """Whether the node's code, config or a macro it calls names the run's date."""
        own = node.get("raw_code", "") + "\n" + _json(node.get("config", {}))
        if TODAY_PATTERN.search(own):
            return True
        for name in self.closure(node):
            if name not in self._today:
                self._today[name] = bool(
                    TODAY_PATTERN.search(self.macros[name].get("macro_sql", ""))
                )
            if self._today[name]:
                return True
        return False


def node_fingerprints(
    manifest: Mapping[str, Any],
    settings: Mapping[str, str] | None = None,
    mapping_rows: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Per model, seed and test (by unique_id), a hash of everything that decides its rows or
    verdict except the raw rows: its code, config, columns' contract, test definition, seed
    content, the macros it calls (transitively, adapter implementations included), the values
    of the org settings named in that code (`settings`, see `incremental.dbt_setting_values`),
    the mapping override rows of the `settings` sources it reads (`mapping_rows`, see
    `incremental.mapping_override_digests`), and the fingerprints of every node it reads."""
    nodes, macros = manifest["nodes"], manifest.get("macros", {})
    sources = manifest.get("sources", {})
    settings = settings or {}
    helper = _Macros(macros, settings)
    macro_parts = {
        name: f"macro {name}\n{macro.get('macro_sql', '')}" for name, macro in macros.items()
    }
    out: dict[str, str] = {}
    for uid in _topological(nodes):
        node = nodes[uid]
        if node.get("resource_type") not in (*BUILT_TYPES, "test"):
            continue
        closure = helper.closure(node)
        parts = [
            uid,
            node.get("raw_code", ""),
            _json(node.get("config", {})),
            _json(node.get("test_metadata") or {}),
            _json(
                {
                    name: [column.get("data_type"), column.get("constraints")]
                    for name, column in (node.get("columns") or {}).items()
                }
            ),
            _json(node.get("constraints") or []),
        ]
        if node.get("resource_type") == "seed":
            parts.append(incremental._content_checksum(node))
        parts += [macro_parts[name] for name in sorted(closure)]
        parts += [
            f"setting {name}={settings[name]}"
            for name in sorted(helper.settings_named(node, closure))
        ]
        for parent in sorted(set(_parents(node))):
            if parent in out:
                parts.append(f"node {parent} {out[parent]}")
            elif parent in nodes:  # an ephemeral or other node: its own code
                parts.append(f"node {parent} {nodes[parent].get('checksum', {})}")
            source = sources.get(parent)
            if source is not None:
                parts.append(f"source {parent}")
                if source.get("source_name") == incremental.MAPPING_SOURCE:
                    rows = (mapping_rows or {}).get(source["name"], "no rows")
                    parts.append(f"mapping {source['name']} {rows}")
        out[uid] = _digest(*parts)
    return out


def uses_today(node: Mapping[str, Any], macros: Mapping[str, Any]) -> bool:
    """Whether the node's code, config or a macro it calls names the run's date."""
    return _Macros(macros).names_today(node)


def today_models(manifest: Mapping[str, Any]) -> set[str]:
    """Models that depend on the run's date: tagged `uses_today`, or found by `uses_today`."""
    helper = _Macros(manifest.get("macros", {}))
    return {
        uid
        for uid, node in manifest["nodes"].items()
        if node.get("resource_type") == "model"
        and (TODAY_TAG in (node.get("tags") or []) or helper.names_today(node))
    }


def _relation(source: Mapping[str, Any]) -> tuple[str, str]:
    return source["schema"], source.get("identifier") or source["name"]


def source_relations(manifest: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Per dbt source id, its (schema, table) in the warehouse."""
    return {uid: _relation(source) for uid, source in manifest.get("sources", {}).items()}


def input_signatures(warehouse: Path, relations: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Per raw table (`schema.table`), a signature that changes whenever it receives or loses
    rows: its columns, row count, newest `_loaded_at`, the removals recorded for it and DuckDB's
    storage layout of it (which an update in place changes); a table without `_loaded_at` (the
    ledger, the quarantine, the settings tables) by its whole content.
    A missing table has the signature `missing`."""
    out: dict[str, str] = {}
    con = connect(Path(warehouse))
    try:
        columns: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "order by schema_name, table_name, column_index"
        ).fetchall():
            columns.setdefault((schema, table), []).append(column)
        removals: dict[str, tuple[int, Any]] = {}
        if ("raw", REMOVALS_TABLE.split(".")[1]) in columns:
            removals = {
                table: (n, latest)
                for table, n, latest in con.execute(
                    f"select raw_table, count(*), max(removed_at) from {REMOVALS_TABLE} "
                    "group by raw_table"
                ).fetchall()
            }
        for schema, table in sorted(set(relations)):
            name = f"{schema}.{table}"
            cols = columns.get((schema, table))
            if cols is None:
                out[name] = "missing"
                continue
            quoted = f'"{schema}"."{table}"'
            if "_loaded_at" in cols:
                rows, newest = con.execute(
                    f"select count(*), max(_loaded_at) from {quoted}"
                ).fetchone()
                # DuckDB's storage layout of the table (segments, their statistics and
                # blocks): an update in place writes new blocks, so even a raw row edited
                # behind the loader's back is seen
                layout = con.execute(
                    "select row_group_id, column_id, segment_id, count, stats, has_updates, "
                    "block_id, block_offset from pragma_storage_info(?) order by all",
                    [f"{schema}.{table}"],
                ).fetchall()
                state = (
                    f"rows {rows} newest {newest} removed {removals.get(table)} "
                    f"layout {_digest(repr(layout))}"
                )
            else:
                rows, content = con.execute(
                    f"select count(*), md5(coalesce(string_agg(cast(t as varchar), chr(10) "
                    f"order by cast(t as varchar)), '')) from {quoted} as t"
                ).fetchone()
                state = f"rows {rows} content {content}"
            out[name] = _digest(_json(cols), state)
    finally:
        con.close()
    return out


def _upstream_sources(uid: str, nodes: Mapping[str, Any], sources: Mapping[str, Any]) -> set[str]:
    seen: set[str] = set()
    found: set[str] = set()
    todo = [uid]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in sources:
            found.add(current)
        elif current in nodes:
            todo.extend(_parents(nodes[current]))
    return found


def node_inputs(
    manifest: Mapping[str, Any], signatures: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Per model, seed and test: a hash of the signatures of every raw table it reads
    (transitively through every node), and the set of those tables."""
    nodes = manifest["nodes"]
    relations = source_relations(manifest)
    inputs: dict[str, str] = {}
    tables: dict[str, set[str]] = {}
    read: dict[str, frozenset[str]] = {}  # node -> raw tables it reads, transitively
    for uid in _topological(nodes):
        names: set[str] = set()
        for parent in _parents(nodes[uid]):
            if parent in relations:
                names.add(".".join(relations[parent]))
            else:
                names |= read.get(parent, frozenset())
        read[uid] = frozenset(names)
        if nodes[uid].get("resource_type") in (*BUILT_TYPES, "test"):
            tables[uid] = names
            inputs[uid] = _digest(*(f"{n} {signatures.get(n, 'unknown')}" for n in sorted(names)))
    return inputs, tables


@dataclass
class Record:
    fingerprint: str
    inputs: str
    run_id: str
    built_at: dt.datetime


def read_records(warehouse: Path) -> dict[str, Record]:
    if not Path(warehouse).exists():
        return {}
    con = connect(Path(warehouse))
    try:
        if not incremental._table_exists(con, STATE_TABLE):
            return {}
        return {
            uid: Record(fingerprint, inputs, run_id, built_at)
            for uid, fingerprint, inputs, run_id, built_at in con.execute(
                f"select unique_id, fingerprint, inputs, run_id, built_at from {STATE_TABLE}"
            ).fetchall()
        }
    finally:
        con.close()


def existing_relations(warehouse: Path) -> set[tuple[str, str]]:
    """(schema, name) of every table and view in the warehouse."""
    if not Path(warehouse).exists():
        return set()
    con = connect(Path(warehouse))
    try:
        return {
            (schema, name)
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
    finally:
        con.close()


@dataclass
class Plan:
    """What one build leaves out, and why the rest is built."""

    fingerprints: dict[str, str] = field(default_factory=dict)  # model/seed/test -> logic
    inputs: dict[str, str] = field(default_factory=dict)  # model/seed/test -> raw inputs
    left_out: list[str] = field(default_factory=list)  # model and seed ids
    tests_left_out: list[str] = field(default_factory=list)  # tests reading only left-out nodes
    built_reasons: dict[str, int] = field(default_factory=dict)  # why candidates are built
    since_runs: list[str] = field(default_factory=list)  # the runs that built the left-out
    since: dict[str, Record] = field(default_factory=dict)  # left-out node -> its last build
    left_out_marts: list[str] = field(default_factory=list)  # left-out marts, DAG order
    tables: list[str] = field(default_factory=list)  # raw tables the left-out models read
    disabled: str = ""  # why nothing is left out (a full refresh, --all-models, ...)

    @property
    def exclude(self) -> list[str]:
        """The `dbt build --exclude` names."""
        return sorted(uid.split(".")[-1] for uid in self.left_out)

    def dbt_args(self) -> list[str]:
        """The dbt arguments that leave these nodes out, and only the tests that read nothing
        else (dbt's default, eager, indirect selection would drop every test touching one)."""
        if not self.left_out:
            return []
        return ["--indirect-selection", "cautious", "--exclude", " ".join(self.exclude)]

    @property
    def models(self) -> int:
        return sum(1 for uid in self.left_out if uid.startswith("model."))

    @property
    def seeds(self) -> int:
        return sum(1 for uid in self.left_out if uid.startswith("seed."))

    def summary(self) -> str:
        if self.disabled:
            return f"models left out: none ({self.disabled})"
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(self.built_reasons.items()))
        built = f"; built among the others: {why}" if why else ""
        if not self.left_out:
            return f"models left out: none{built}"
        runs = self.since_runs[-1][:8] + (
            f" and {len(self.since_runs) - 1} earlier" if len(self.since_runs) > 1 else ""
        )
        seeds = f", {self.seeds} seeds" if self.seeds else ""
        marts = f" ({len(self.left_out_marts)} marts)" if self.left_out_marts else ""
        return (
            f"models left out: {self.models} models{marts}{seeds}, "
            f"{len(self.tests_left_out)} tests: "
            f"inputs unchanged since run {runs}: no new or removed rows in "
            f"{compact_tables(self.tables) or 'any raw table'}, same logic{built}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "models": self.models,
            "seeds": self.seeds,
            "marts": len(self.left_out_marts),
            "left_out_marts": sorted(uid.split(".")[-1] for uid in self.left_out_marts),
            "tests": len(self.tests_left_out),
            "left_out": self.exclude,
            "since_runs": self.since_runs,
            "tables": self.tables,
            "built_reasons": self.built_reasons,
            "disabled": self.disabled,
            "summary": self.summary(),
        }


def compact_tables(tables: Iterable[str]) -> str:
    """`raw.hubspot__*` for the tables of one source prefix when there are several."""
    groups: dict[str, list[str]] = {}
    for name in sorted(tables):
        schema, _, table = name.partition(".")
        prefix = table.split("__")[0] if "__" in table else table
        groups.setdefault(f"{schema}.{prefix}", []).append(name)
    return ", ".join(
        members[0] if len(members) == 1 else f"{group}__* ({len(members)} tables)"
        for group, members in sorted(groups.items())
    )


def plan(
    manifest: Mapping[str, Any],
    *,
    fingerprints: Mapping[str, str],
    inputs: Mapping[str, str],
    tables: Mapping[str, set[str]] | None = None,
    records: Mapping[str, Record],
    existing: set[tuple[str, str]],
    max_age_days: int,
    now: dt.datetime | None = None,
    disabled: str = "",
) -> Plan:
    """The models and seeds this build leaves out (see the module docstring); pure, for tests."""
    nodes = manifest["nodes"]
    result = Plan(dict(fingerprints), dict(inputs), disabled=disabled)
    if disabled:
        return result
    now = now or dt.datetime.now(dt.UTC)
    today = today_models(manifest)
    tests = {
        uid: set(_parents(node))
        for uid, node in nodes.items()
        if node.get("resource_type") == "test" and _parents(node)
    }

    def current(uid: str) -> str | None:
        """Why the node itself must be built (None: its record vouches for it)."""
        record = records.get(uid)
        if record is None:
            return "no successful build on record"
        if record.fingerprint != fingerprints.get(uid):
            return "logic changed"
        if record.inputs != inputs.get(uid):
            return "new or removed raw rows"
        if now - record.built_at >= dt.timedelta(days=max_age_days):
            return f"last built {max_age_days}+ days ago"
        return None

    own: dict[str, str] = {}  # candidate -> why it is built on its own account
    order = [u for u in _topological(nodes) if nodes[u].get("resource_type") in BUILT_TYPES]
    for uid in order:
        node = nodes[uid]
        if _ephemeral(node):
            continue
        if uid in today:
            own[uid] = "uses today's date"
        elif (node["schema"], node.get("alias") or node["name"]) not in existing:
            own[uid] = "not in the warehouse"
        else:
            reason = current(uid)
            if reason:
                own[uid] = reason

    while True:
        built: set[str] = set()
        reasons: dict[str, str] = {}
        for uid in order:
            node = nodes[uid]
            if uid in own:
                reasons[uid] = own[uid]
            elif any(p in built for p in _parents(node)):
                reasons[uid] = "a model upstream is built"
            elif _ephemeral(node) and uid in today:
                reasons[uid] = "uses today's date"
            else:
                continue
            built.add(uid)
        left = {u for u in order if u not in built and not _ephemeral(nodes[u])}
        # dbt runs a test unless every node it reads is left out (`--indirect-selection
        # cautious`): a test that must run (new, edited, new inputs, not passed last time) and
        # reads only left-out nodes has its model built
        more = {}
        for test, parents in tests.items():
            if parents <= left and current(test) is not None:
                model = nodes[test].get("attached_node") or sorted(parents)[0]
                more[model if model in parents else sorted(parents)[0]] = TEST_REASON
        if not more.keys() - own.keys():
            break
        own.update({uid: reason for uid, reason in more.items() if uid not in own})
    for uid, reason in reasons.items():
        if _built_by_dbt(nodes[uid]):
            result.built_reasons[reason] = result.built_reasons.get(reason, 0) + 1
    result.left_out = sorted(left)
    result.tests_left_out = sorted(test for test, parents in tests.items() if parents <= left)
    result.since_runs = sorted(
        {records[u].run_id for u in left},
        key=lambda r: min(records[u].built_at for u in left if records[u].run_id == r),
    )
    result.tables = sorted({t for u in left for t in (tables or {}).get(u, set())})
    result.since = {u: records[u] for u in sorted(left)}
    # in the order of the DAG: Dagster wants a multi-asset's outputs in topological order
    result.left_out_marts = [u for u in order if u in left and is_mart(nodes[u])]
    return result


def is_mart(node: Mapping[str, Any]) -> bool:
    """A model in models/marts/ (what the publish step copies)."""
    return node.get("resource_type") == "model" and (node.get("fqn") or [None, None])[1:2] == [
        MARTS_FOLDER
    ]


def left_out_metadata(build: Plan, uid: str) -> dict[str, Any]:
    """The metadata of the output a left-out mart emits instead of dbt's: that it was not
    built, since which run and when its rows were built."""
    since = build.since[uid]
    return {
        LEFT_OUT_KEY: f"left out: unchanged since run {since.run_id}",
        "unique_id": uid,
        "status": "left out",
        "built_by_run": since.run_id,
        "built_at": since.built_at.isoformat(),
    }


def _ephemeral(node: Mapping[str, Any]) -> bool:
    return node.get("config", {}).get("materialized") == "ephemeral"


def _built_by_dbt(node: Mapping[str, Any]) -> bool:
    return node.get("resource_type") in BUILT_TYPES and not _ephemeral(node)


def plan_build(
    warehouse: Path,
    manifest: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    *,
    max_age_days: int,
    disabled: str = "",
    mapping_rows: Mapping[str, str] | None = None,
    signatures: Callable[[], Mapping[str, str]] | None = None,
) -> Plan:
    """`plan` with the warehouse's records, relations and raw tables, and the settings dbt will
    see (`environ`: the process's environment with the settings file exported over it).
    `mapping_rows` (`incremental.mapping_override_digests`) and `signatures` (a callable giving
    `input_signatures` of every source, e.g. a future's result: `start_input_signatures`), when
    the caller has them already or has them computed beside other work."""
    warehouse = Path(warehouse)
    if mapping_rows is None:
        mapping_rows = incremental.mapping_override_digests(warehouse)
    fingerprints = node_fingerprints(
        manifest, incremental.dbt_setting_values(environ), mapping_rows
    )
    if not warehouse.exists():
        return Plan(fingerprints, disabled=disabled or "no warehouse yet")
    signatures_now = (
        signatures()
        if signatures is not None
        else input_signatures(warehouse, source_relations(manifest).values())
    )
    inputs, tables = node_inputs(manifest, signatures_now)
    return plan(
        manifest,
        fingerprints=fingerprints,
        inputs=inputs,
        tables=tables,
        records=read_records(warehouse),
        existing=existing_relations(warehouse),
        max_age_days=max_age_days,
        disabled=disabled,
    )


def start_input_signatures(
    warehouse: Path, manifest: Mapping[str, Any]
) -> Callable[[], Mapping[str, str]]:
    """`input_signatures` of every source's raw table, started in a thread now (DuckDB works
    without the interpreter's lock, so it runs beside the fingerprints, which are Python);
    the returned callable waits for them (and raises what the thread raised)."""
    if not Path(warehouse).exists():
        return lambda: {}
    relations = list(source_relations(manifest).values())
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="input-signatures")
    future = executor.submit(input_signatures, Path(warehouse), relations)
    executor.shutdown(wait=False)
    return future.result


def record(
    warehouse: Path,
    build: Plan,
    run_results: Mapping[str, Any],
    run_id: str,
    now: dt.datetime | None = None,
) -> int:
    """After a build: record every model and seed built successfully and every test that passed
    with the fingerprint and inputs of this build; forget every node that errored, failed,
    warned or was skipped (it is built or run again next time). Nodes left out keep their
    record. Returns the number of nodes recorded."""
    now = now or dt.datetime.now(dt.UTC)
    keep, forget = [], []
    for result in run_results.get("results", []):
        uid = result.get("unique_id", "")
        if uid not in build.fingerprints:
            continue
        ok = result.get("status") in ("success", "pass")
        if ok and uid in build.inputs:
            keep.append((uid, build.fingerprints[uid], build.inputs[uid], run_id, now))
        else:
            forget.append(uid)
    if not keep and not forget:
        return 0
    con = connect(Path(warehouse))
    try:
        con.execute(STATE_DDL)
        records.delete(con, STATE_TABLE, "unique_id", forget)
        return records.upsert(con, STATE_TABLE, keep)
    finally:
        con.close()


def write_left_out(warehouse: Path, run_id: str, build: Plan) -> Path:
    path = Path(warehouse).with_name(LEFT_OUT_FILE)
    path.write_text(json.dumps({"run_id": run_id, **build.to_json()}, indent=1))
    return path


def read_left_out(warehouse: Path, run_id: str) -> dict[str, Any] | None:
    """What the build of run `run_id` left out (None: no record of that run)."""
    path = Path(warehouse).with_name(LEFT_OUT_FILE)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if data.get("run_id") == run_id else None
