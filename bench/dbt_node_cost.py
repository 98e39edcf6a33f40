"""dbt's own cost per node for this project's DAG: each node's time minus the time of its SQL.

    python -m bench.dbt_node_cost --warehouse FILE [--repeat N] [--threads 2] [--out-json FILE]

Runs `dbt build` (unit tests excluded, as the refresh does) in this process with dbt's
programmatic runner, on the given warehouse (use a copy: models are rebuilt), `--repeat` times
in a row. Every statement dbt sends through its adapter (`SQLConnectionManager.add_query`:
the model's SQL, the test's query, and dbt's own catalogue, rename and drop statements) is
timed and charged to the node whose connection sent it. Per node:

* `seconds`: dbt's `execution_time` (run_results.json), what the bench's node times add up;
* `sql`: the time inside `add_query`, and how many statements;
* `own`: `seconds` - `sql`: Jinja rendering of the node and its materialization, the
  relation cache, events, run_results bookkeeping: what the node costs dbt whatever its rows;
* `own_cpu`: the CPU seconds of the node's thread outside its statements (`thread_time`):
  dbt's Python for the node, which a busy machine does not inflate. dbt's Python holds the
  interpreter's lock, so this part does not overlap between dbt's threads: the day's floor
  is about the sum of `own_cpu` over its nodes, whatever `--threads`.

The manifest is parsed once first and handed to each build (as the refresh does), so the
time before the first node is dbt's graph, selection and relation cache only. The second and
later runs of a build with no new raw rows are the floor of a daily increment
(incremental models find nothing new). The summary gives, per resource type, the nodes, the
sums, and the median / mean / p90 of `own` and of `seconds`; plus dbt's time before its first
node and after its last (from the invocation's start and end). Numbers are thread-seconds on
`--threads` threads (the refresh uses 2): `own` is partly waiting for the GIL held by the other
thread, which is part of what a node costs on this machine kind.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from revops.transform import PROJECT_DIR


@contextmanager
def timed_statements() -> Iterator[dict[str, list[float]]]:
    """Times every `add_query` of dbt's SQL adapters, per connection name (a node's
    unique_id while it runs), in wall seconds; and, under `cpu:<name>`, the CPU seconds the
    calling thread spent in it (DuckDB's own worker threads are not counted)."""
    from dbt.adapters.sql.connections import SQLConnectionManager

    spent: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    original = SQLConnectionManager.add_query

    def add_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        name = str(self.get_thread_connection().name)
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(self, *args, **kwargs)
        finally:
            seconds, cpu = time.perf_counter() - started, time.thread_time() - cpu
            with lock:
                spent[name].append(seconds)
                spent[f"cpu:{name}"].append(cpu)

    SQLConnectionManager.add_query = add_query
    try:
        yield spent
    finally:
        SQLConnectionManager.add_query = original


@contextmanager
def node_cpu() -> Iterator[dict[str, float]]:
    """The CPU seconds of the thread that runs each node (`BaseRunner.run_with_hooks`: its
    compile, materialization and SQL calls), per node: unlike wall seconds, not inflated by
    other processes on a busy machine."""
    from dbt.task.base import BaseRunner

    spent: dict[str, float] = {}
    original = BaseRunner.run_with_hooks

    def run_with_hooks(self: Any, manifest: Any) -> Any:
        cpu = time.thread_time()
        try:
            return original(self, manifest)
        finally:
            spent[self.node.unique_id] = time.thread_time() - cpu

    BaseRunner.run_with_hooks = run_with_hooks
    try:
        yield spent
    finally:
        BaseRunner.run_with_hooks = original


def _ts(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summarise(
    run_results: Mapping[str, Any],
    statements: Mapping[str, list[float]],
    started: float,
    ended: float,
    cpu: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Per resource type: nodes, seconds, sql, own (sums and distribution of `own`)."""
    nodes: list[dict[str, Any]] = []
    first_start, last_end = None, None
    for result in run_results.get("results", []):
        uid = result["unique_id"]
        seconds = result.get("execution_time") or 0.0
        sql = statements.get(uid, [])
        times = [t for t in result.get("timing", []) if t.get("started_at")]
        if times:
            start, end = _ts(times[0]["started_at"]), _ts(times[-1]["completed_at"])
            first_start = start if first_start is None else min(first_start, start)
            last_end = end if last_end is None else max(last_end, end)
        compile_seconds = sum(
            _ts(t["completed_at"]) - _ts(t["started_at"])
            for t in times
            if t.get("name") == "compile"
        )
        nodes.append(
            {
                "unique_id": uid,
                "kind": uid.split(".", 1)[0],
                "status": result.get("status"),
                "seconds": round(seconds, 4),
                "sql": round(sum(sql), 4),
                "statements": len(sql),
                "compile": round(compile_seconds, 4),
                "own": round(seconds - sum(sql), 4),
                # CPU of the node's thread outside its statements: dbt's Python for the node
                "own_cpu": round(
                    (cpu or {}).get(uid, 0.0) - sum(statements.get(f"cpu:{uid}", [])), 4
                ),
            }
        )
    kinds: dict[str, Any] = {}
    for kind in sorted({n["kind"] for n in nodes}):
        rows = [n for n in nodes if n["kind"] == kind]
        own = [n["own"] for n in rows]
        total = [n["seconds"] for n in rows]
        kinds[kind] = {
            "nodes": len(rows),
            "seconds": round(sum(total), 3),
            "sql": round(sum(n["sql"] for n in rows), 3),
            "statements": sum(n["statements"] for n in rows),
            "compile": round(sum(n["compile"] for n in rows), 3),
            "own": round(sum(own), 3),
            "own_cpu": round(sum(n["own_cpu"] for n in rows), 3),
            "own_cpu_per_node": {
                "median": round(statistics.median(n["own_cpu"] for n in rows), 4),
                "mean": round(statistics.fmean(n["own_cpu"] for n in rows), 4),
            },
            "own_per_node": {
                "median": round(statistics.median(own), 4),
                "mean": round(statistics.fmean(own), 4),
                "p90": round(_quantile(own, 0.9), 4),
            },
            "seconds_per_node": {
                "median": round(statistics.median(total), 4),
                "mean": round(statistics.fmean(total), 4),
            },
        }
    meta = run_results.get("metadata", {})
    begun = meta.get("invocation_started_at")
    invocation_start = _ts(begun) if begun else None
    return {
        "wall": round(ended - started, 3),
        "elapsed": round(run_results.get("elapsed_time", 0.0), 3),
        # from the runner's call (dbt's imports already done) to the first node's start
        "before_first_node": round(first_start - started, 3) if first_start else None,
        "dbt_start_to_first_node": (
            round(first_start - invocation_start, 3) if first_start and invocation_start else None
        ),
        "after_last_node": round(ended - last_end, 3) if last_end else None,
        "kinds": kinds,
        "slowest_own": sorted(nodes, key=lambda n: -n["own"])[:10],
        "nodes": nodes,
    }


def _common(target: Path) -> list[str]:
    return [
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
        "--quiet",
    ]


def parse(warehouse: Path, target: Path) -> Any:
    """dbt's parsed manifest, as the refresh hands it to its in-process build."""
    from dbt.cli.main import dbtRunner

    from revops.settings import environment

    with environment({"REVOPS_WAREHOUSE": str(warehouse.resolve())}):
        result = dbtRunner().invoke(["parse", *_common(target)])
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return result.result


def build_once(warehouse: Path, threads: int, target: Path, manifest: Any) -> dict[str, Any]:
    from dbt.cli.main import dbtRunner

    from orchestration.defs.transform.dbt_in_process import _close_duckdb
    from revops.settings import environment

    args = ["build", "--exclude-resource-type", "unit_test", "--threads", str(threads)]
    with (
        environment({"REVOPS_WAREHOUSE": str(warehouse.resolve())}),
        timed_statements() as spent,
        node_cpu() as cpu,
    ):
        started = time.time()
        result = dbtRunner(manifest=manifest).invoke([*args, *_common(target)])
        ended = time.time()
    _close_duckdb()
    run_results = json.loads((target / "run_results.json").read_text())
    out = summarise(run_results, spent, started, ended, cpu)
    out["success"] = bool(result.success)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dbt_node_cost", description=__doc__)
    parser.add_argument("--warehouse", type=Path, required=True, help="a built warehouse (a copy)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--target", type=Path, default=Path("/tmp/dbt-node-cost-target"))
    parser.add_argument("--out-json", type=Path)
    args = parser.parse_args(argv)
    import dbt.cli.main  # noqa: F401  (imported before the clock: the refresh warms it too)

    os.chdir(PROJECT_DIR)
    manifest = parse(args.warehouse, args.target / "parse")
    runs = []
    for run in range(args.repeat):
        out = build_once(args.warehouse, args.threads, args.target / f"run-{run}", manifest)
        runs.append(out)
        line = [f"run {run + 1}: wall {out['wall']} s, dbt elapsed {out['elapsed']} s, "
                f"before the first node {out['before_first_node']} s, after the last "
                f"{out['after_last_node']} s, success {out['success']}"]  # fmt: skip
        for kind, k in out["kinds"].items():
            line.append(
                f"  {kind}: {k['nodes']} nodes, {k['seconds']} s node time = {k['sql']} s SQL "
                f"({k['statements']} statements) + {k['own']} s dbt's own; own per node "
                f"median {k['own_per_node']['median']} mean {k['own_per_node']['mean']} "
                f"p90 {k['own_per_node']['p90']} s (of which compile {k['compile']} s in all); "
                f"own CPU {k['own_cpu']} s, per node median {k['own_cpu_per_node']['median']} "
                f"mean {k['own_cpu_per_node']['mean']} s"
            )
        print("\n".join(line), flush=True)
    if args.out_json:
        args.out_json.write_text(json.dumps({"threads": args.threads, "runs": runs}, indent=1))
    return 0 if all(r["success"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
