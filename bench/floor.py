"""The floor of a refresh: DuckDB alone doing the same work, without Dagster or dbt.

    python -m bench.floor load --landing DIR --db FILE [--memory-limit 4GB] --out-json FILE
    python -m bench.floor build --db FILE --manifest FILE --serving FILE --out-json FILE

`load` puts every object's delivery files into `raw.<source>__<object>` with one
`create table ... as select * from read_csv([...], all_varchar = true)` (JSON Lines:
`read_json([...])` with every contract column as text, which is how nested objects stay JSON
text as in the warehouse), plus the lineage columns the staging models read, taken from the
file name. No ledger, no rejects (their tables exist, empty), no hashing, no per-file row
numbers (`_row_number` is null: it only breaks ties between two versions of a record in the
same file).

`build` runs, in one connection and in dependency order, dbt's compiled SQL of every seed
(a `read_csv` of the seed file), model (`create table|view ... as <compiled_code>`) and data
test (`select count(*) from (<compiled_code>)`), then copies the mart tables into a fresh file
(the floor of publishing). The manifest must come from `dbt compile` against the same file
name, so that relations render as `"<db>"."<schema>"."<name>"` of this database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from revops import contract
from revops.contract import ExportObject
from revops.ingest.warehouse import ensure_warehouse

# dbt's `column_types` of seeds, as DuckDB names them.
SEED_TYPES = {"string": "VARCHAR", "text": "VARCHAR", "int": "INTEGER", "integer": "INTEGER"}


@dataclass
class NodeTiming:
    unique_id: str
    resource_type: str
    seconds: float
    materialized: str = ""
    rows: int | None = None  # tables: rows; tests: failures


@dataclass
class FloorLoad:
    seconds: float = 0.0
    rows: int = 0
    files: int = 0
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class FloorBuild:
    seconds: float = 0.0
    seeds_seconds: float = 0.0
    models_seconds: float = 0.0
    tests_seconds: float = 0.0
    publish_seconds: float = 0.0
    models: int = 0
    tests: int = 0
    tests_failed: list[str] = field(default_factory=list)
    nodes: list[NodeTiming] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect(db: Path, memory_limit: str | None) -> duckdb.DuckDBPyConnection:
    config = {"memory_limit": memory_limit} if memory_limit else {}
    return duckdb.connect(str(db), config=config)


def object_files(landing: Path, obj: ExportObject) -> list[str]:
    """Every delivery file of `obj`, in delivery order (`<source>/<object>/<day>/<file>`)."""
    folder = Path(landing) / obj.source / obj.name
    return sorted(str(p) for p in folder.glob("*/*") if p.is_file())


def _lineage(loaded_at: str) -> str:
    # The delivery day is the folder the file sits in.
    return (
        "filename as _file_path, null::varchar as _file_sha256, null::bigint as _row_number, "
        r"regexp_extract(filename, '(\d{4}-\d{2}-\d{2})/[^/]+$', 1)::date as _delivery_date, "
        f"null::varchar as _load_id, '{loaded_at}'::timestamptz as _loaded_at"
    )


def load_object(
    con: duckdb.DuckDBPyConnection, landing: Path, obj: ExportObject, loaded_at: str
) -> dict[str, Any]:
    """Bare load of one object's files into raw.<table>; returns files, rows, seconds, mode."""
    table = f"raw.{_quote(obj.raw_table)}"
    clock = time.perf_counter()
    files = object_files(landing, obj)
    if not files:
        # Nothing delivered: an empty table with the contract's columns, so that staging binds.
        cols = ", ".join(f"null::varchar as {_quote(c)}" for c in obj.column_names)
        con.execute(
            f"create table {table} as select {cols}, {_lineage(loaded_at)} from "
            "(select null as filename) where false"
        )
        return {"files": 0, "rows": 0, "seconds": time.perf_counter() - clock, "mode": "empty"}
    if obj.format == "csv":
        attempts = [
            ("read_csv", "all_varchar = true, ignore_errors = true"),
            (
                "read_csv union_by_name",
                "all_varchar = true, ignore_errors = true, union_by_name = true",
            ),
        ]
        reader = "read_csv"
    else:
        spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in obj.column_names) + "}"
        attempts = [
            ("read_json", f"columns = {spec}, format = 'newline_delimited', ignore_errors = true")
        ]
        reader = "read_json"
    mode = ""
    for mode, options in attempts:  # noqa: B007 - the mode that worked is reported
        try:
            con.execute(
                f"create table {table} as select *, {_lineage(loaded_at)} "
                f"from {reader}(?, {options})",
                [files],
            )
        except duckdb.Error:
            # The files' headers differ (a renamed column, say): read them by name instead.
            continue
        break
    else:
        raise RuntimeError(f"floor load of {obj.folder} failed")
    present = {r[0] for r in con.execute(f"describe {table}").fetchall()}
    for column in obj.column_names:
        if column not in present:  # never delivered: the staging model still selects it
            con.execute(f"alter table {table} add column {_quote(column)} varchar")
    rows = con.execute(f"select count(*) from {table}").fetchone()[0]
    return {
        "files": len(files),
        "rows": rows,
        "seconds": round(time.perf_counter() - clock, 3),
        "mode": mode,
    }


def floor_load(
    landing: Path,
    db: Path,
    objects: Sequence[ExportObject] = contract.OBJECTS,
    memory_limit: str | None = None,
) -> FloorLoad:
    """Load every object's files into a fresh `db` (timed up to the closed, checkpointed file)."""
    for path in (db, db.with_name(db.name + ".wal")):
        path.unlink(missing_ok=True)
    out = FloorLoad()
    loaded_at = dt.datetime.now(dt.UTC).isoformat()
    clock = time.perf_counter()
    con = _connect(db, memory_limit)
    try:
        con.execute("create schema raw")
        for obj in objects:
            out.tables[obj.raw_table] = load_object(con, landing, obj, loaded_at)
        # The ingestion bookkeeping the `ingest` dbt source reads (ledger, rejects, quarantine),
        # empty: plain DuckDB keeps none, so the models over it build empty.
        ensure_warehouse(con)
    finally:
        con.close()
    out.seconds = round(time.perf_counter() - clock, 3)
    out.rows = sum(t["rows"] for t in out.tables.values())
    out.files = sum(t["files"] for t in out.tables.values())
    return out


# -- the compiled project -------------------------------------------------------------------


def build_order(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Seeds and models (ephemeral ones left out: they are inlined) in dependency order,
    ties broken by unique_id so that the order is stable."""
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node.get("resource_type") in ("seed", "model")
        and node.get("config", {}).get("enabled", True)
    }
    deps = {
        uid: sorted(d for d in node.get("depends_on", {}).get("nodes", []) if d in nodes)
        for uid, node in nodes.items()
    }
    order: list[str] = []
    state: dict[str, int] = {}  # 1: visiting, 2: done

    def visit(uid: str) -> None:
        if state.get(uid) == 2:
            return
        if state.get(uid) == 1:
            raise ValueError(f"dependency cycle through {uid}")
        state[uid] = 1
        for dep in deps[uid]:
            visit(dep)
        state[uid] = 2
        order.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    return [
        nodes[uid]
        for uid in order
        if nodes[uid].get("config", {}).get("materialized") != "ephemeral"
    ]


def data_tests(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every enabled data test (generic and singular; unit tests are not in `nodes` as tests)."""
    return [
        node
        for uid, node in sorted(manifest["nodes"].items())
        if node.get("resource_type") == "test" and node.get("config", {}).get("enabled", True)
    ]


def mart_relations(manifest: Mapping[str, Any], folder: str = "marts") -> list[tuple[str, str]]:
    """(name, relation) of every table model under models/<folder>/ (what publishing copies)."""
    out = []
    for node in manifest["nodes"].values():
        fqn = node.get("fqn", [])
        if node.get("resource_type") != "model" or len(fqn) < 3 or fqn[1] != folder:
            continue
        if node.get("config", {}).get("materialized") in ("table", "incremental"):
            out.append((node["name"], node["relation_name"]))
    return sorted(out)


def _seed_sql(node: Mapping[str, Any], project_dir: Path) -> str:
    path = Path(project_dir) / node["original_file_path"]
    types = {
        name: SEED_TYPES.get(str(t).lower(), str(t).upper())
        for name, t in (node.get("config", {}).get("column_types") or {}).items()
    }
    spec = ", ".join(f"'{k}': '{v}'" for k, v in types.items())
    options = f", types = {{{spec}}}" if spec else ""
    return (
        f"create or replace table {node['relation_name']} as "
        f"select * from read_csv('{path}', header = true{options})"
    )


def _model_sql(node: Mapping[str, Any], table_folders: Sequence[str] = ()) -> str:
    kind = "view" if node["config"].get("materialized") == "view" else "table"
    if kind == "view" and node.get("fqn", [None, None])[1] in table_folders:
        kind = "table"  # what-if: this folder's views materialized as tables
    return f"create or replace {kind} {node['relation_name']} as (\n{node['compiled_code']}\n)"


def _schemas(nodes: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({f"{_quote(n['database'])}.{_quote(n['schema'])}" for n in nodes})


def floor_build(
    db: Path,
    manifest: Mapping[str, Any],
    project_dir: Path,
    *,
    serving: Path | None = None,
    tests: bool = True,
    memory_limit: str | None = None,
    table_folders: Sequence[str] = (),
) -> FloorBuild:
    """Seeds, models and data tests of `manifest` (compiled) on `db`, then the marts copied
    into `serving`. Timed up to the closed file; a failing statement is recorded, not raised,
    and the nodes downstream still run (they will likely fail too)."""
    out = FloorBuild()
    order = build_order(manifest)
    clock = time.perf_counter()
    con = _connect(db, memory_limit)
    try:
        for schema in _schemas(order):
            con.execute(f"create schema if not exists {schema}")
        for node in order:
            kind = node["resource_type"]
            if kind == "seed":
                sql = _seed_sql(node, project_dir)
            else:
                sql = _model_sql(node, table_folders)
            started = time.perf_counter()
            try:
                con.execute(sql)
            except duckdb.Error as exc:
                out.errors.append(f"{node['unique_id']}: {str(exc).splitlines()[0][:300]}")
            seconds = time.perf_counter() - started
            out.nodes.append(
                NodeTiming(
                    node["unique_id"],
                    kind,
                    round(seconds, 4),
                    node["config"].get("materialized", "seed"),
                )
            )
            if kind == "seed":
                out.seeds_seconds += seconds
            else:
                out.models += 1
                out.models_seconds += seconds
        if tests:
            for node in data_tests(manifest):
                started = time.perf_counter()
                try:
                    (failures,) = con.execute(
                        f"select count(*) from (\n{node['compiled_code']}\n) as dbt_internal_test"
                    ).fetchone()
                except duckdb.Error as exc:
                    out.errors.append(f"{node['unique_id']}: {str(exc).splitlines()[0][:300]}")
                    failures = None
                seconds = time.perf_counter() - started
                out.nodes.append(
                    NodeTiming(node["unique_id"], "test", round(seconds, 4), "", failures)
                )
                out.tests += 1
                out.tests_seconds += seconds
                if failures:
                    out.tests_failed.append(node["unique_id"])
        con.execute("checkpoint")
        if serving is not None:
            started = time.perf_counter()
            for path in (serving, serving.with_name(serving.name + ".wal")):
                path.unlink(missing_ok=True)
            con.execute(f"attach '{serving}' as floor_serving")
            for name, relation in mart_relations(manifest):
                con.execute(
                    f"create table floor_serving.main.{_quote(name)} as select * from {relation}"
                )
            con.execute("detach floor_serving")
            out.publish_seconds = time.perf_counter() - started
    finally:
        con.close()
    out.seconds = round(time.perf_counter() - clock, 3)
    for name in ("seeds_seconds", "models_seconds", "tests_seconds", "publish_seconds"):
        setattr(out, name, round(getattr(out, name), 3))
    return out


def _operators(node: Mapping[str, Any], depth: int = 0) -> Iterable[tuple[int, dict]]:
    yield depth, node
    for child in node.get("children", []):
        yield from _operators(child, depth + 1)


def _extra(kind: str, info: Mapping[str, Any]) -> str:
    keep = ("Table", "Join Type", "Conditions", "Groups", "Aggregates", "Function", "Filters")
    if kind == "WINDOW":
        keep += ("Projections",)
    parts = []
    for key in keep:
        if key in info:
            value = info[key]
            text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"{key}: {text}")
    return "; ".join(parts)[:240]


def profile(
    db: Path,
    manifest: Mapping[str, Any],
    models: Sequence[str],
    out_dir: Path,
    memory_limit: str | None = None,
    top: int = 8,
) -> dict[str, float]:
    """Each model's compiled SQL materialized again on the built floor `db` under DuckDB's
    profiler (what `explain analyze` shows); its slowest operators go to
    `out_dir/<model>.txt`. Returns each model's seconds under the profiler."""
    out_dir.mkdir(parents=True, exist_ok=True)
    seconds = {}
    con = _connect(db, memory_limit)
    try:
        for uid in models:
            node = manifest["nodes"][uid]
            trace = out_dir / f"{node['name']}.json"
            con.execute("pragma enable_profiling = 'json'")
            con.execute(f"pragma profiling_output = '{trace}'")
            clock = time.perf_counter()
            con.execute(f"create or replace temp table floor_profiled as {node['compiled_code']}")
            seconds[uid] = round(time.perf_counter() - clock, 3)
            con.execute("pragma disable_profiling")
            con.execute("drop table floor_profiled")
            data = json.loads(trace.read_text())
            trace.unlink()
            system = data.get("system", {})
            ops = [
                (o.get("timing", 0.0), depth, o)
                for root in data.get("operator", [])
                for depth, o in _operators(root)
            ]
            total_op = sum(t for t, _, _ in ops) or 1.0
            lines = [
                f"-- {uid}: compiled SQL profiled on the floor database ({seconds[uid]} s wall, "
                f"cpu {data.get('query', {}).get('cpu_time', 0):.2f} s, peak buffer memory "
                f"{system.get('peak_buffer_memory', 0) / 1e9:.2f} GB, spilled "
                f"{system.get('total_bytes_spilled', 0) / 1e9:.2f} GB)",
                f"-- slowest {top} operators (share of summed operator time, rows out, detail):",
            ]
            for timing, depth, op in sorted(ops, key=lambda x: -x[0])[:top]:
                lines.append(
                    f"{timing:8.3f} s {timing / total_op:5.0%}  depth {depth:2d}  "
                    f"{op.get('type', op.get('name'))}  rows {op.get('intermediate_rows', 0):,}"
                    f"  {_extra(op.get('type', ''), op.get('extra_info', {}))}"
                )
            (out_dir / f"{node['name']}.txt").write_text("\n".join(lines) + "\n")
    finally:
        con.close()
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.floor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    load = sub.add_parser("load", help="bare load of a landing folder")
    load.add_argument("--landing", type=Path, required=True)
    build = sub.add_parser("build", help="compiled seeds, models and tests, then the marts copy")
    build.add_argument("--manifest", type=Path, required=True)
    build.add_argument("--project-dir", type=Path, default=Path.cwd())
    build.add_argument("--serving", type=Path, help="file the marts are copied into")
    build.add_argument("--no-tests", action="store_true")
    build.add_argument(
        "--tables-in",
        nargs="*",
        default=[],
        metavar="FOLDER",
        help="what-if: build the views of these model folders (staging, ...) as tables",
    )
    prof = sub.add_parser("profile", help="explain analyze of some models on a built floor")
    prof.add_argument("--manifest", type=Path, required=True)
    prof.add_argument("--model", action="append", default=[], help="unique_id (repeatable)")
    prof.add_argument("--out-dir", type=Path, required=True)
    for p in (load, build, prof):
        p.add_argument("--db", type=Path, required=True)
        p.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 4GB")
        p.add_argument("--out-json", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "load":
        result: Any = floor_load(args.landing, args.db, memory_limit=args.memory_limit)
    elif args.command == "profile":
        manifest = json.loads(args.manifest.read_text())
        seconds = profile(args.db, manifest, args.model, args.out_dir, args.memory_limit)
        args.out_json.write_text(json.dumps(seconds, indent=1) + "\n")
        return 0
    else:
        result = floor_build(
            args.db,
            json.loads(args.manifest.read_text()),
            args.project_dir,
            serving=args.serving,
            tests=not args.no_tests,
            memory_limit=args.memory_limit,
            table_folders=args.tables_in,
        )
    args.out_json.write_text(json.dumps(asdict(result), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
