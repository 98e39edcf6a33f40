"""Times the whole refresh on generated data against its floor (DuckDB alone), per scale.

    python -m bench.refresh_bench --scale m [--scale l ...] [--workdir DIR] [--update-docs]
    make bench SCALE="xs s m"

For each scale, in a work folder (default /tmp/bench-refresh-<scale>, deleted afterwards):

1. generate the company (`revops generate`), timed, with the peak memory of its process tree;
2. link every delivery before the increment day (step 4) into a landing folder and run the
   refresh on it as a subprocess (`python -m bench.refresh_runner`, i.e. `run_refresh`),
   sampling the memory of the whole process tree (the refresh and its dbt child) from /proc
   every 0.2 s; the split comes from the Dagster step timings and dbt's run_results.json;
3. the floor of the same work on the same files (bench/floor.py): a bare DuckDB load, then
   dbt's compiled SQL of every seed, model and data test in one connection, then the marts
   copied into a fresh file;
4. link the increment day's deliveries and refresh again: the daily increment. The increment
   day is the last day with at least half the median day's files (`--increment-day`): a
   generated company can end on a partial day (at `l`, 3 files and 15 rows). Steps 2 and 4
   leave any later day out.

The refresh runs from a copy of the project taken when the benchmark starts (`--in-place` to
use the working tree), so that edits made meanwhile do not change what is measured. Results go
to `bench/results/<scale>.json` (written after every stage); `--update-docs` renders every
results file into the "Refresh" section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import itertools
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from revops.ingest.landing import link_deliveries_until
from revops.settings import DEFAULT_MEMORY_LIMIT

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "BENCHMARKS.md"
SCALE_ORDER = ("xs", "s", "m", "l")
RUN_RESULTS_FILE = "dbt_run_results.json"  # orchestration/defs/transform/assets.py
NON_INGEST_STEPS = frozenset({"revops_dbt_models", "serving_snapshot", "serving_report"})
DOC_START = "<!-- refresh-bench:start (written by python -m bench.refresh_bench) -->"
DOC_END = "<!-- refresh-bench:end -->"
OOM = re.compile(r"out of memory|OutOfMemory|MemoryError", re.IGNORECASE)

# Targets of issue 8.
TARGET_TOTAL = 1.5  # full refresh at l / floor
TARGET_INGEST = 1.25  # ingest at l / floor
TARGET_INCREMENT = 0.10  # daily increment at l / full refresh at l
TARGET_MEMORY_GB = 4.0  # peak memory of the refresh at l
# Issue 21: the increment's time grows with the day's rows, not with history. From m to l the
# history grows ~10x; "well under" is read as: the increment's time grows at most half as much.
TARGET_INCREMENT_GROWTH = 0.5  # (increment time ratio m -> l) / (history rows ratio m -> l)


# -- memory of a process tree ---------------------------------------------------------------

PAGE = os.sysconf("SC_PAGE_SIZE")


def children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids of every process visible in /proc."""
    out: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:  # gone meanwhile
            continue
        # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        out.setdefault(int(fields[1]), []).append(int(entry.name))
    return out


def tree_pids(root: int, children: Mapping[int, Sequence[int]] | None = None) -> list[int]:
    """`root` and all its descendants."""
    children = children_map() if children is None else children
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def rss_bytes(pid: int) -> int:
    """Resident set size of one process (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int) -> int:
    """Sum of the RSS of `root` and its descendants (shared pages counted in each process)."""
    return sum(rss_bytes(pid) for pid in tree_pids(root))


def _command(pid: int) -> str:
    """`pid: <first words of its command line>`, for telling processes apart in a report."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    words = [Path(w.decode(errors="replace")).name if i == 0 else w.decode(errors="replace")
             for i, w in enumerate(raw[:4]) if w]  # fmt: skip
    return f"{pid}: {' '.join(words)}"[:80]


class TreeSampler:
    """Samples the summed RSS of a process tree every `interval` seconds on a thread."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        self.root, self.interval = root, interval
        self.peak_bytes = 0
        self.peak_processes = 0
        self.samples = 0
        self.peak_at = 0.0
        self.peak_by_process: dict[str, float] = {}
        self.started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            pids = tree_pids(self.root)
            sizes = {pid: rss_bytes(pid) for pid in pids}
            total = sum(sizes.values())
            self.samples += 1
            if total > self.peak_bytes:
                self.peak_bytes, self.peak_processes = total, len(pids)
                self.peak_at = time.perf_counter() - self.started
                self.peak_by_process = {_command(pid): round(b / 1e9, 3) for pid, b in
                                        sizes.items() if b}  # fmt: skip
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def cpu_seconds() -> float:
    """CPU time spent by the whole machine so far (every core, all but idle and iowait)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(x) for x in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    """One subprocess: wall time, exit code, peak memory."""

    command: list[str]
    seconds: float
    returncode: int
    peak_tree_gb: float  # peak of the summed RSS of the process tree (sampled)
    max_rss_gb: float  # largest RSS of any one waited-for process (kernel's ru_maxrss)
    samples: int
    log: str = ""
    cpu_seconds: float = 0.0  # CPU time of the process tree (user + system)
    peak_at_seconds: float = 0.0  # when the peak was sampled, from the start
    peak_by_process: dict[str, float] = field(default_factory=dict)  # GB per process at the peak
    # CPU used meanwhile by everything else on the machine, in cores (the machine is shared:
    # 0 means we had it to ourselves, 1 means another core's worth of work competed)
    other_cores: float = 0.0


def run_measured(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    interval: float = 0.2,
) -> Measured:
    """Run `command`, sampling the memory of its process tree; output goes to `log`."""
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        clock, machine_cpu = time.perf_counter(), cpu_seconds()
        proc = subprocess.Popen(
            list(command), cwd=cwd, env=dict(env) if env else None, stdout=out, stderr=out
        )
        with TreeSampler(proc.pid, interval) as sampler:
            _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - clock
        machine_cpu = cpu_seconds() - machine_cpu
        proc.returncode = os.waitstatus_to_exitcode(status)
        own = usage.ru_utime + usage.ru_stime
    finally:
        if log:
            out.close()
    return Measured(
        command=list(command),
        seconds=round(seconds, 3),
        returncode=proc.returncode,
        peak_tree_gb=round(sampler.peak_bytes / 1e9, 3),
        max_rss_gb=round(usage.ru_maxrss * 1024 / 1e9, 3),
        samples=sampler.samples,
        log=str(log or ""),
        cpu_seconds=round(own, 2),
        peak_at_seconds=round(sampler.peak_at, 1),
        peak_by_process=sampler.peak_by_process,
        other_cores=round(max(0.0, machine_cpu - own) / seconds, 2) if seconds else 0.0,
    )


# -- landing folders ------------------------------------------------------------------------


def delivery_files(landing: Path) -> list[tuple[str, Path]]:
    """(delivery day, path) of every delivery file `<source>/<object>/<day>/<file>`."""
    out = []
    for path in sorted(Path(landing).glob("*/*/*/*")):
        if path.is_file():
            out.append((path.parent.name, path))
    return out


def truth_rows(landing: Path) -> dict[str, int]:
    """Files and data rows the generator says it delivered (truth.json `deliveries`)."""
    truth = json.loads((Path(landing) / "truth.json").read_text())
    deliveries = truth["deliveries"].values()
    return {
        "files": sum(d["files"] for d in deliveries),
        "rows": sum(d["data_rows"] for d in deliveries),
    }


# -- splitting a refresh --------------------------------------------------------------------


def _parse_ts(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def dbt_split(run_results: Mapping[str, Any]) -> dict[str, Any]:
    """Per resource type: nodes, sum of node execution times (thread-seconds: dbt runs nodes
    on several threads), and the wall time during which at least one such node ran."""
    out: dict[str, Any] = {"elapsed": round(run_results.get("elapsed_time", 0.0), 3)}
    meta = run_results.get("metadata", {})
    if meta.get("invocation_started_at") and meta.get("generated_at"):
        # from dbt's start (after its imports) to its artifacts: parse + graph + nodes
        out["invocation"] = round(
            _parse_ts(meta["generated_at"]) - _parse_ts(meta["invocation_started_at"]), 3
        )
    spans: dict[str, list[tuple[float, float]]] = {}
    for node in run_results.get("results", []):
        kind = node["unique_id"].split(".", 1)[0]
        entry = out.setdefault(kind, {"nodes": 0, "seconds": 0.0, "wall": 0.0, "failed": 0})
        entry["nodes"] += 1
        entry["seconds"] += node.get("execution_time") or 0.0
        if node.get("status") in ("error", "fail"):
            entry["failed"] += 1
        times = [t for t in node.get("timing", []) if t.get("started_at")]
        if times:
            spans.setdefault(kind, []).append(
                (_parse_ts(times[0]["started_at"]), _parse_ts(times[-1]["completed_at"]))
            )
    for kind, intervals in spans.items():
        out[kind]["wall"] = round(union_seconds(intervals), 3)
    for value in out.values():
        if isinstance(value, dict):
            value["seconds"] = round(value["seconds"], 3)
    return out


def union_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    """Length of the union of [start, end] intervals."""
    total, end = 0.0, None
    for start, stop in sorted(intervals):
        if end is None or start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def slowest_nodes(
    run_results: Mapping[str, Any], n: int = 10, kind: str | None = None
) -> list[dict[str, Any]]:
    """The `n` nodes (of resource type `kind`: model, test, seed; default any) that took
    longest, by dbt's `execution_time`."""
    nodes = sorted(
        (
            r
            for r in run_results.get("results", [])
            if kind is None or r["unique_id"].split(".", 1)[0] == kind
        ),
        key=lambda r: r.get("execution_time") or 0,
        reverse=True,
    )
    return [
        {
            "unique_id": r["unique_id"],
            "seconds": round(r.get("execution_time") or 0.0, 3),
            "status": r.get("status"),
        }
        for r in nodes[:n]
    ]


# Models whose build time the harness reports on its own (the point-in-time pipeline is
# incremental by as-of date, the billing intermediates by affected key (subscription or customer,
# month): their full build and their daily increment are both watched).
TRACKED_MODELS = (
    "stg_salesforce__opportunity_versions",
    "fct_pipeline_snapshots",
    "pipeline_by_day",
    "int_subscription_item_months",
    "int_mrr_customer_months",
)


def tracked_nodes(
    run_results: Mapping[str, Any], models: Sequence[str] = TRACKED_MODELS
) -> dict[str, float | None]:
    """Execution time of each tracked model in a dbt run (None when it did not run)."""
    times = {
        r["unique_id"].rsplit(".", 1)[-1]: round(r.get("execution_time") or 0.0, 3)
        for r in run_results.get("results", [])
        if r["unique_id"].startswith("model.")
    }
    return {name: times.get(name) for name in models}


def refresh_split(
    result: Mapping[str, Any], run_results: Mapping[str, Any] | None, wall: float
) -> dict[str, float | None]:
    """The stages of one refresh, in seconds, from its RefreshResult and dbt's run_results."""
    steps = result.get("step_seconds", {})
    ingest = sum(s for k, s in steps.items() if k not in NON_INGEST_STEPS)
    dbt_step = steps.get("revops_dbt_models")
    dbt = dbt_split(run_results or {})
    elapsed = dbt.get("elapsed") if run_results else None
    invocation = dbt.get("invocation")
    parse = result.get("parse_seconds")
    return {
        "total": round(wall, 3),
        # outside the steps: imports, `dbt parse` (ensure_manifest), definitions, job start
        "startup": round(wall - sum(steps.values()), 3),
        "parse": parse,
        "ingest": round(ingest, 3),
        "dbt_build": dbt_step,
        "dbt_elapsed": elapsed,
        "dbt_overhead": round(dbt_step - elapsed, 3) if dbt_step and elapsed else None,
        # dbt's own parse and graph before the first node (inside its invocation)
        "dbt_prerun": round(invocation - elapsed, 3) if invocation and elapsed else None,
        # the rest of the step: dbt's process start and imports, Dagster's event handling
        "dagster_overhead": round(dbt_step - invocation, 3) if dbt_step and invocation else None,
        "dbt_models": dbt.get("model", {}).get("seconds"),
        "dbt_seeds": dbt.get("seed", {}).get("seconds"),
        "dbt_tests": dbt.get("test", {}).get("seconds"),
        # the snapshot and its report are one step (serving_snapshot): its time less the
        # report's, which the report asset records (older results: a step of its own)
        "publish": _less(steps.get("serving_snapshot"), result.get("report_seconds")),
        "report": steps.get("serving_report", result.get("report_seconds")),
    }


def _less(total: float | None, part: float | None) -> float | None:
    return total if total is None or part is None else round(total - part, 3)


def ratio(ours: float | None, floor: float | None) -> float | None:
    if ours is None or not floor:
        return None
    return round(ours / floor, 3)


def growth(results: Sequence[Mapping[str, Any]], stages: Sequence[str]) -> list[dict[str, Any]]:
    """Between successive scales (by size): the ratio of rows against the ratio of each
    stage's time; `ok` when the time grew no faster than the rows."""
    ordered = sorted(
        (r for r in results if r.get("rows")),
        key=lambda r: r["rows"],
    )
    out = []
    for small, big in itertools.pairwise(ordered):
        row: dict[str, Any] = {
            "from": small["scale"],
            "to": big["scale"],
            "rows_ratio": round(big["rows"] / small["rows"], 2),
            "stages": {},
        }
        for stage in stages:
            a = (small.get("refresh") or {}).get(stage)
            b = (big.get("refresh") or {}).get(stage)
            r = ratio(b, a)
            row["stages"][stage] = {"ratio": r, "ok": None if r is None else r <= row["rows_ratio"]}
        out.append(row)
    return out


# -- the run --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
    except (OSError, IndexError, ValueError):
        mem_kb = 0
    versions = {}
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "dagster-dbt"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "?"
    return {
        "nproc": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024**2, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def git_state(root: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.rstrip()  # porcelain lines start with a space

    dirty = [line[3:] for line in git("status", "--porcelain").splitlines()]
    return {"commit": git("rev-parse", "HEAD"), "dirty": dirty}


def snapshot_project(root: Path, dest: Path) -> int:
    """Copy the project's files (tracked and untracked, not ignored) to `dest`."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    copied = 0
    for name in listed:
        if not name:
            continue
        src = root / name.decode()
        if not src.is_file():
            continue
        target = dest / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
        copied += 1
    return copied


def increment_day(files_per_day: Mapping[str, int], rule: str = "last-full") -> str:
    """The delivery day the benchmark's increment loads: the last day (`last`), or the last
    day with at least half the median day's delivery files (`last-full`): a generated company
    can end on a partial day (at `l`, 3 files and 15 rows), whose increment times the fixed
    costs only."""
    days = sorted(files_per_day)
    if rule == "last":
        return days[-1]
    typical = statistics.median(files_per_day.values())
    return next(d for d in reversed(days) if files_per_day[d] >= typical / 2)


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%H:%M:%S")


class ScaleRun:
    """Every measurement of one scale, written to its JSON after each stage."""

    def __init__(self, scale: str, args: argparse.Namespace, project: Path, base: dict) -> None:
        self.scale, self.args, self.project = scale, args, project
        self.work = Path(args.workdir or f"/tmp/bench-refresh-{scale}")
        self.out_json = args.out_json or RESULTS / f"{scale}.json"
        self.python = sys.executable
        self.env = {
            **os.environ,
            "PYTHONPATH": str(project),
            "REVOPS_DUCKDB_MEMORY_LIMIT": args.memory_limit,
        }
        self.env.pop("DAGSTER_HOME", None)  # an ephemeral instance, as in CI
        self.data: dict[str, Any] = {**base, "scale": scale, "stages_done": []}
        self.data["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    def save(self, stage: str) -> None:
        self.data["stages_done"].append(stage)
        self.out_json.parent.mkdir(parents=True, exist_ok=True)
        self.out_json.write_text(json.dumps(self.data, indent=1, default=str) + "\n")
        print(f"[{_stamp()}] {self.scale}: {stage} done", file=sys.stderr, flush=True)

    def measure(self, name: str, command: Sequence[str]) -> Measured:
        print(f"[{_stamp()}] {self.scale}: {name} ...", file=sys.stderr, flush=True)
        m = run_measured(
            command, cwd=self.project, env=self.env, log=self.work / "logs" / f"{name}.log"
        )
        if m.returncode != 0:
            tail = Path(m.log).read_text()[-1500:] if m.log else ""
            print(f"{name} exited {m.returncode}:\n{tail}", file=sys.stderr)
        return m

    def refresh(self, name: str, landing: Path) -> dict[str, Any]:
        wh = self.work / "warehouse" / "warehouse.duckdb"
        out = self.work / f"{name}.json"
        m = self.measure(
            name,
            [
                self.python,
                "-m",
                "bench.refresh_runner",
                "--landing",
                str(landing),
                "--warehouse",
                str(wh),
                "--serving",
                str(self.work / "serving"),
                "--out-json",
                str(out),
            ],
        )
        result = json.loads(out.read_text()) if out.exists() else {}
        results_file = wh.with_name(RUN_RESULTS_FILE)
        run_results = json.loads(results_file.read_text()) if results_file.exists() else None
        if run_results:
            shutil.copyfile(results_file, self.work / f"{name}-{RUN_RESULTS_FILE}")
        log_text = ""
        for path in (Path(m.log), wh.with_name("refresh.log")):
            if path.exists():
                log_text += path.read_text(errors="replace")
        return {
            "ok": bool(result.get("ok")),
            "process": asdict(m),
            "split": refresh_split(result, run_results, m.seconds),
            # where the start-up goes: run_refresh's parts outside the steps (refresh_runner),
            # and the interpreter's start and exit (the process's wall less run_refresh's)
            "startup_parts": {
                **(result.get("timings") or {}),
                "interpreter_start_exit": (
                    round(m.seconds - result["process_seconds"], 3)
                    if result.get("process_seconds") is not None
                    else None
                ),
            },
            "dbt": dbt_split(run_results or {}),
            "slowest_dbt_nodes": slowest_nodes(run_results or {}, 25),
            "slowest_models": slowest_nodes(run_results or {}, 15, "model"),
            "slowest_tests": slowest_nodes(run_results or {}, 10, "test"),
            # what the publish copied: the changed marts, and those carried over unchanged
            "marts_copied": (result.get("published") or {}).get("marts_copied"),
            "marts_carried_over": (result.get("published") or {}).get("marts_carried_over"),
            # changed marts updated in the copy of the served file by their changed rows
            "marts_delta": (result.get("published") or {}).get("marts_delta"),
            "tracked_nodes": tracked_nodes(run_results or {}),
            "rows_loaded": result.get("rows_loaded"),
            "files_loaded": result.get("files_loaded"),
            "models": result.get("models"),
            # left out of the dbt build: unchanged since their last build (revops/unchanged.py)
            "models_left_out": result.get("models_left_out"),
            "seeds_left_out": result.get("seeds_left_out"),
            # marts among them: Dagster got an output saying so (revops/unchanged.py)
            "marts_left_out": (
                None if result.get("marts_left_out") is None else len(result["marts_left_out"])
            ),
            "tests_left_out": result.get("tests_left_out"),
            "left_out_summary": result.get("left_out_summary"),
            "checks_passed": result.get("checks_passed"),
            "checks_failed": result.get("checks_failed"),
            "errors": [e[:500] for e in result.get("errors", [])],
            "out_of_memory": bool(OOM.search(log_text)) or m.returncode in (-9, 137),
        }

    def run(self) -> dict[str, Any]:
        if self.work.exists():
            shutil.rmtree(self.work)
        (self.work / "logs").mkdir(parents=True)
        full = self.work / "generated"
        landing = self.work / "landing"

        # 1. generate
        gen = self.measure(
            "generate",
            [
                self.python,
                "-m",
                "revops.cli",
                "generate",
                "--scale",
                self.scale,
                "--out",
                str(full),
            ],
        )
        self.data["generate"] = asdict(gen)
        truth = truth_rows(full)
        self.data.update(files=truth["files"], rows_truth=truth["rows"], rows=truth["rows"])
        files_per_day = collections.Counter(day for day, _ in delivery_files(full))
        last = increment_day(files_per_day, self.args.increment_day)
        self.data["last_day"] = last
        self.data["increment_day"] = {
            "rule": self.args.increment_day,
            "day": last,
            "files": files_per_day[last],
            "median_files_per_day": statistics.median(files_per_day.values()),
            # later days (a partial last delivery) are loaded by neither refresh
            "days_left_out": sorted(d for d in files_per_day if d > last),
        }
        self.save("generate")

        # 2. full refresh of everything up to the day before the last
        day_before = (dt.date.fromisoformat(last) - dt.timedelta(days=1)).isoformat()
        base = link_deliveries_until(full, landing, day_before)
        self._warm_parse(landing)
        self.data["full_files"] = base
        full_run = self.refresh("refresh_full", landing)
        self.data["full"] = full_run
        # rows of the full refresh are what it loaded (the last day is left for the increment)
        self.data["rows"] = full_run["rows_loaded"] or self.data["rows"]
        self.data["refresh"] = full_run["split"]
        self.data["checks"] = self._reconcile()
        self.save("refresh_full")

        # 3. floor of the same work on the same files
        if not self.args.no_floor:
            self.data["floor"] = self.floor(landing)
            self.save("floor")

        # 4. the daily increment
        if self.scale in self.args.increment_scales:
            added = link_deliveries_until(full, landing, last)
            inc = self.refresh("refresh_increment", landing)
            inc["files_added"] = added
            self.data["increment"] = inc
            self.data["increment_ratio"] = ratio(inc["split"]["total"], full_run["split"]["total"])
            self.save("increment")

        if not self.args.keep_data:
            shutil.rmtree(self.work, ignore_errors=True)
        return self.data

    def _warm_parse(self, landing: Path) -> None:
        """A daily refresh finds the parse of the day before: dbt's partial-parse state and
        the manifest, parsed with the same paths, and the stamp that lets `ensure_manifest`
        skip parsing while the project is unchanged. Build them here (not timed), so that no
        scale pays a first-ever parse."""
        env = {
            **self.env,
            "REVOPS_LANDING": str(landing.resolve()),
            "REVOPS_WAREHOUSE": str((self.work / "warehouse" / "warehouse.duckdb").resolve()),
            "REVOPS_SERVING": str((self.work / "serving").resolve()),
        }
        subprocess.run(
            [self.python, "-c", "from revops.refresh import ensure_manifest; ensure_manifest()"],
            cwd=self.project, env=env, capture_output=True, check=True,
        )  # fmt: skip

    def _reconcile(self) -> dict[str, Any]:
        """The ingestion checks (rows read = loaded + rejected, per file and table) re-run on
        their own after the refresh: inside the refresh they are part of each ingest step."""
        code = (
            "import sys, time; from pathlib import Path; from revops import contract; "
            "from revops.ingest.reconcile import reconcile_warehouse; t = time.perf_counter(); "
            "r = reconcile_warehouse(Path(sys.argv[1]), list(contract.OBJECTS)); "
            "print(round(time.perf_counter() - t, 3), all(x.ok for x in r))"
        )
        wh = self.work / "warehouse" / "warehouse.duckdb"
        done = subprocess.run(
            [self.python, "-c", code, str(wh)],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
        )
        try:
            seconds, ok = done.stdout.split()
            return {"reconcile_seconds": float(seconds), "reconciled": ok == "True"}
        except ValueError:
            return {"reconcile_seconds": None, "error": done.stderr[-500:]}

    def floor(self, landing: Path) -> dict[str, Any]:
        """The floor on the same files: load, then build; `--floor-repeat` times, the best
        load and the best build kept (each repeat starts from a fresh file)."""
        folder = self.work / "floor"
        folder.mkdir()
        db = folder / "warehouse.duckdb"  # same file name as ours: relations render alike
        manifest = folder / "target" / "manifest.json"
        limit = ["--memory-limit", self.args.memory_limit]
        best: dict[str, tuple[dict, Measured]] = {}
        compile_seconds = None
        for attempt in range(max(1, self.args.floor_repeat)):
            tag = f"_{attempt + 1}" if attempt else ""
            load = self.measure(
                f"floor_load{tag}",
                [self.python, "-m", "bench.floor", "load", "--landing", str(landing), "--db",
                 str(db), *limit, "--out-json", str(folder / "load.json")],
            )  # fmt: skip
            loaded = json.loads((folder / "load.json").read_text())
            if "load" not in best or loaded["seconds"] < best["load"][0]["seconds"]:
                best["load"] = (loaded, load)
            if compile_seconds is None:
                # dbt's compiled SQL against this file (not timed: the floor starts from it)
                clock = time.perf_counter()
                dbt = Path(self.python).parent / "dbt"
                compiled = subprocess.run(
                    [str(dbt), "compile", "--project-dir", str(self.project), "--profiles-dir",
                     str(self.project), "--target-path", str(folder / "target"), "--log-path",
                     str(folder / "logs"), "--quiet"],
                    cwd=self.project, env={**self.env, "REVOPS_WAREHOUSE": str(db)},
                    capture_output=True, text=True,
                )  # fmt: skip
                compile_seconds = round(time.perf_counter() - clock, 3)
                if compiled.returncode != 0:
                    raise RuntimeError(f"dbt compile failed:\n{compiled.stdout[-3000:]}")
            build = self.measure(
                f"floor_build{tag}",
                [self.python, "-m", "bench.floor", "build", "--db", str(db), "--manifest",
                 str(manifest), "--project-dir", str(self.project), "--serving",
                 str(folder / "serving.duckdb"), *limit, "--out-json", str(folder / "build.json")],
            )  # fmt: skip
            built = json.loads((folder / "build.json").read_text())
            if "build" not in best or built["seconds"] < best["build"][0]["seconds"]:
                best["build"] = (built, build)
        (loaded, load), (built, build) = best["load"], best["build"]
        nodes = built.pop("nodes")
        by_id = {n["unique_id"]: n for n in nodes}
        slowest = []
        for node in self.data["full"]["slowest_dbt_nodes"]:
            node = dict(node)
            node["floor_seconds"] = (by_id.get(node["unique_id"]) or {}).get("seconds")
            slowest.append(node)
        self.data["full"]["slowest_dbt_nodes"] = slowest
        profiled = {}
        models = [n["unique_id"] for n in slowest if n["unique_id"].startswith("model.")]
        if models[: self.args.profile]:
            plans = RESULTS / f"profile-{self.scale}"
            shutil.rmtree(plans, ignore_errors=True)
            prof = self.measure(
                "floor_profile",
                [self.python, "-m", "bench.floor", "profile", "--db", str(db), "--manifest",
                 str(manifest), *limit, "--out-dir", str(plans),
                 *(a for m in models[: self.args.profile] for a in ("--model", m)),
                 "--out-json", str(folder / "profile.json")],
            )  # fmt: skip
            if prof.returncode == 0:
                profiled = json.loads((folder / "profile.json").read_text())
        dbt_floor = built["seeds_seconds"] + built["models_seconds"] + built["tests_seconds"]
        return {
            "repeat": max(1, self.args.floor_repeat),
            "load": {k: v for k, v in loaded.items() if k != "tables"},
            "load_tables": loaded["tables"],
            "load_process": asdict(load),
            "build": built,
            "build_process": asdict(build),
            "compile_seconds": compile_seconds,
            "explain_analyze_seconds": profiled,
            "slowest_floor_nodes": sorted(nodes, key=lambda n: -n["seconds"])[:25],
            "split": {
                # timed inside the floor processes (connect to closed file), like the steps
                "total": round(loaded["seconds"] + built["seconds"], 3),
                "ingest": loaded["seconds"],
                "dbt_build": round(dbt_floor, 3),
                "dbt_models": round(built["models_seconds"], 3),
                "dbt_seeds": round(built["seeds_seconds"], 3),
                "dbt_tests": round(built["tests_seconds"], 3),
                "publish": built["publish_seconds"],
            },
        }


# -- the report -----------------------------------------------------------------------------

STAGES = (
    ("total", "full refresh (process wall)"),
    ("ingest", "ingest (sum of ingestion steps)"),
    ("dbt_build", "dbt build (Dagster step wall)"),
    ("dbt_models", "- models (sum of node times)"),
    ("dbt_tests", "- data tests (sum of node times)"),
    ("dbt_overhead", "- overhead: step wall - dbt's elapsed time"),
    ("dbt_prerun", "- - of which dbt parse + graph before the first node"),
    ("dagster_overhead", "- - of which dbt process start + Dagster event handling"),
    ("publish", "publish (serving_snapshot)"),
    ("report", "report (serving_report)"),
    ("startup", "start-up outside steps (imports, dbt parse, job)"),
    ("parse", "- of which `dbt parse` (ensure_manifest)"),
)
GROWTH_STAGES = ("total", "ingest", "dbt_build", "dbt_models", "dbt_tests", "publish")


def _fmt(value: float | None, unit: str = " s") -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}{unit}" if value >= 10 else f"{value:,.2f}{unit}"


def _ok(flag: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[flag]


def targets(results: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each target of issue 8."""
    rows = []
    big = results.get("l")
    label = "l"
    if big is None and results:
        label = max(results, key=lambda s: SCALE_ORDER.index(s) if s in SCALE_ORDER else -1)
        big = results[label]
    note = "" if label == "l" else f" (at `{label}`: `l` not run)"
    if big:
        ours, floor = big.get("refresh") or {}, (big.get("floor") or {}).get("split") or {}
        r = ratio(ours.get("total"), floor.get("total"))
        rows.append(
            (
                f"full refresh within {TARGET_TOTAL}x of the floor{note}",
                _fmt(r, "x"),
                _ok(None if r is None else r <= TARGET_TOTAL),
            )
        )
        r = ratio(ours.get("ingest"), floor.get("ingest"))
        rows.append(
            (
                f"ingest within {TARGET_INGEST}x of the floor{note}",
                _fmt(r, "x"),
                _ok(None if r is None else r <= TARGET_INGEST),
            )
        )
        r = big.get("increment_ratio")
        rows.append(
            (
                f"daily increment under {TARGET_INCREMENT:.0%} of a full refresh{note}",
                "-" if r is None else f"{r:.0%}",
                _ok(None if r is None else r < TARGET_INCREMENT),
            )
        )
        peak = ((big.get("full") or {}).get("process") or {}).get("peak_tree_gb")
        rows.append(
            (
                f"peak memory of the refresh under {TARGET_MEMORY_GB:.0f} GB{note}",
                _fmt(peak, " GB"),
                _ok(None if peak is None else peak < TARGET_MEMORY_GB),
            )
        )
    steps = growth(list(results.values()), ["total"])
    pair = next((g for g in steps if (g["from"], g["to"]) == ("m", "l")), None)
    if pair:
        t = pair["stages"]["total"]
        rows.append(
            (
                "time grows no faster than rows, m -> l",
                f"time x{t['ratio']:.2f} vs rows x{pair['rows_ratio']:.2f}",
                _ok(t["ok"]),
            )
        )
    else:
        rows.append(("time grows no faster than rows, m -> l", "-", _ok(None)))
    ooms = [
        s
        for s, r in results.items()
        for run in ("full", "increment")
        if (r.get(run) or {}).get("out_of_memory")
    ]
    rows.append(("no out-of-memory at any scale run", ", ".join(ooms) or "none", _ok(not ooms)))
    return rows


def increment_growth(results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Between successive scales that timed an increment: the increment's time ratio against
    the ratio of history rows (what the full refresh loaded) and of the day's rows (what the
    increment loaded)."""
    timed = [
        results[s]
        for s in SCALE_ORDER
        if s in results and ((results[s].get("increment") or {}).get("split") or {}).get("total")
    ]
    out = []
    for small, big in itertools.pairwise(timed):
        a, b = small["increment"], big["increment"]
        history = ratio(big.get("rows"), small.get("rows"))
        time_ratio = ratio(b["split"]["total"], a["split"]["total"])
        out.append(
            {
                "from": small["scale"],
                "to": big["scale"],
                "time_ratio": time_ratio,
                "history_rows_ratio": history,
                "day_rows_ratio": ratio(b.get("rows_loaded"), a.get("rows_loaded")),
                "ok": None
                if time_ratio is None or history is None
                else time_ratio <= TARGET_INCREMENT_GROWTH * history,
            }
        )
    return out


def targets_issue21(results: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each "Done when" line of issue 21."""
    big = results.get("l")
    rows = []
    if big is None:
        return [("daily increment at `l` (not run)", "-", _ok(None))]
    r = big.get("increment_ratio")
    rows.append(
        (
            f"daily increment at `l` under {TARGET_INCREMENT:.0%} of the full refresh (same run)",
            "-" if r is None else f"{r:.1%}",
            _ok(None if r is None else r < TARGET_INCREMENT),
        )
    )
    floor = ((big.get("floor") or {}).get("split") or {}).get("total")
    r = ratio((big.get("refresh") or {}).get("total"), floor)
    rows.append(
        (
            f"full refresh at `l` within {TARGET_TOTAL}x of the floor",
            _fmt(r, "x"),
            _ok(None if r is None else r <= TARGET_TOTAL),
        )
    )
    peaks = [
        ((big.get(k) or {}).get("process") or {}).get("peak_tree_gb") for k in ("full", "increment")
    ]
    known = [p for p in peaks if p is not None]
    rows.append(
        (
            f"peak memory at `l` under {TARGET_MEMORY_GB:.0f} GB (full / increment)",
            " / ".join(_fmt(p, " GB") for p in peaks),
            _ok(None if not known else max(known) < TARGET_MEMORY_GB),
        )
    )
    pair = next((g for g in increment_growth(results) if (g["from"], g["to"]) == ("m", "l")), None)
    rows.append(
        (
            "increment growth m -> l: time ratio vs history-rows ratio (at most "
            f"{TARGET_INCREMENT_GROWTH:g}x of it)",
            "-"
            if pair is None
            else f"time x{_num(pair['time_ratio'])} vs history rows "
            f"x{_num(pair['history_rows_ratio'])} (day's rows x{_num(pair['day_rows_ratio'])})",
            _ok(None if pair is None else pair["ok"]),
        )
    )
    return rows


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _nodes(run: Mapping[str, Any], kind: str) -> int | None:
    """How many nodes of a resource type dbt ran in a refresh (its run_results)."""
    return ((run.get("dbt") or {}).get(kind) or {}).get("nodes")


def render_increment(results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The lines of "Daily increment (issue 21)": per scale that timed one, the day's rows and
    the split of the increment's time (fixed costs apart), its slowest nodes, the targets."""
    scales = [s for s in SCALE_ORDER if (results.get(s) or {}).get("increment")]
    if not scales:
        return []
    lines = [
        "",
        "### Daily increment (issue 21)",
        "",
        "One day's deliveries refreshed on top of the full refresh above (same run, same "
        "warehouse): the last day with at least half the median day's delivery files "
        "(`--increment-day last-full`; a company can end on a partial day), later days left "
        "out of both refreshes. Node times are sums over dbt's nodes (two threads overlap); "
        "walls are the time during which at least one such node ran.",
        "",
        "| increment | " + " | ".join(f"`{s}`" for s in scales) + " |",
        "|---|" + "---|" * len(scales),
    ]

    def inc(scale: str) -> Mapping[str, Any]:
        return results[scale].get("increment") or {}

    def row(label: str, get: Callable[[str], str]) -> None:
        lines.append(f"| {label} | " + " | ".join(get(s) for s in scales) + " |")

    def split(key: str) -> Callable[[str], str]:
        return lambda s: _fmt((inc(s).get("split") or {}).get(key))

    def dbt(kind: str, key: str) -> Callable[[str], str]:
        return lambda s: _fmt(((inc(s).get("dbt") or {}).get(kind) or {}).get(key))

    def count(value: Any) -> str:
        return "-" if value is None else f"{value:,}"

    row("history: rows loaded by the full refresh", lambda s: count(results[s].get("rows")))
    row("the day the increment loads", lambda s: str(results[s].get("last_day") or "-"))
    row(
        "- files / rows it loaded",
        lambda s: f"{count(inc(s).get('files_loaded'))} / {count(inc(s).get('rows_loaded'))}",
    )
    row("increment: process wall", split("total"))
    row(
        "- / full refresh",
        lambda s: (
            "-"
            if results[s].get("increment_ratio") is None
            else f"{results[s]['increment_ratio']:.1%}"
        ),
    )
    row("- start-up outside steps (imports, definitions, job)", split("startup"))
    row("- ingest (sum of ingestion steps)", split("ingest"))
    row("- dbt build (Dagster step wall)", split("dbt_build"))
    row(
        "- - models / data tests run",
        lambda s: f"{count(_nodes(inc(s), 'model'))} / {count(_nodes(inc(s), 'test'))}",
    )
    row(
        "- - models / data tests left out (unchanged since their last build)",
        lambda s: f"{count(inc(s).get('models_left_out'))} / {count(inc(s).get('tests_left_out'))}",
    )
    row(
        "- - marts among the models left out (Dagster told they are current)",
        lambda s: count(inc(s).get("marts_left_out")),
    )
    row("- - models: wall", dbt("model", "wall"))
    row("- - models: sum of node times", dbt("model", "seconds"))
    row("- - data tests: wall", dbt("test", "wall"))
    row("- - data tests: sum of node times", dbt("test", "seconds"))
    row("- - dbt parse + graph before the first node", split("dbt_prerun"))
    row("- - dbt process start + Dagster event handling", split("dagster_overhead"))
    row("- publish (serving_snapshot)", split("publish"))
    row(
        "- - marts copied whole / updated by their changed rows / carried over",
        lambda s: (
            f"{count(inc(s).get('marts_copied'))} / {count(inc(s).get('marts_delta'))} / "
            f"{count(inc(s).get('marts_carried_over'))}"
        ),
    )
    row("- report (serving_report)", split("report"))
    row("- peak memory (process tree)", lambda s: _fmt((inc(s).get("process") or {}).get(
        "peak_tree_gb"), " GB"))  # fmt: skip
    row(
        "- other work on the machine meanwhile, in busy cores",
        lambda s: _fmt((inc(s).get("process") or {}).get("other_cores"), ""),
    )
    grow = increment_growth(results)
    if grow:
        lines += [
            "",
            "| increment growth | time | history rows | day's rows |",
            "|---|---|---|---|",
        ]
        for g in grow:
            lines.append(
                f"| {g['from']} -> {g['to']} | x{_num(g['time_ratio'])} | "
                f"x{_num(g['history_rows_ratio'])} | x{_num(g['day_rows_ratio'])} |"
            )
    largest = scales[-1]
    for kind, label, n in (("slowest_models", "models", 10), ("slowest_tests", "data tests", 5)):
        nodes = (inc(largest).get(kind) or [])[:n]
        if nodes:
            lines += [
                "",
                f"Slowest {label} of the increment at `{largest}` (dbt `execution_time`):",
                "",
                "| node | seconds |",
                "|---|---|",
            ]
            lines += [f"| `{x['unique_id']}` | {_fmt(x['seconds'])} |" for x in nodes]
    lines += ["", "Targets (issue 21):", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in targets_issue21(results)]
    return lines


def render(results: Mapping[str, Mapping[str, Any]]) -> str:
    """The "Refresh" section of docs/BENCHMARKS.md from the results of each scale."""
    scales = [s for s in SCALE_ORDER if s in results] + sorted(
        s for s in results if s not in SCALE_ORDER
    )
    if not scales:
        return ""
    first = results[scales[0]]
    mach = first["machine"]
    v = mach["versions"]
    lines = [
        DOC_START,
        "## Refresh",
        "",
        "Command: "
        + "; ".join(f"`{c}`" for c in dict.fromkeys(results[s]["command"] for s in scales))
        + f' (or `make bench SCALE="{" ".join(scales)}"`); one scale after another, each in a '
        "fresh work folder under /tmp. Measured "
        + ", ".join(f"`{s}` {results[s]['date']}" for s in scales)
        + f" on {mach['nproc']} cores ({mach['cpu']}), {mach['ram_gib']} GiB RAM, Linux "
        f"{mach['kernel']}, Python {mach['python']}, DuckDB {v['duckdb']}, dbt-core "
        f"{v['dbt-core']}, dbt-duckdb {v['dbt-duckdb']}, Dagster {v['dagster']}; DuckDB "
        f"memory limit {first['memory_limit']} (every connection of the refresh, and the "
        "floor). The machine was shared "
        'with other work: the row "other work on the machine meanwhile" gives, for each '
        "measurement, how many cores' worth of CPU everything else used (out of "
        f"{mach['nproc']}); figures taken while it is near 1 are inflated, up to about 2x.",
        "",
        '"Ours" is `run_refresh` (the Dagster `refresh` job in one process: ingestion assets, '
        "`dbt build` without unit tests, publish, report) in a subprocess on every delivery up "
        'to the day before the last, from a fresh warehouse. "Floor" is DuckDB alone doing '
        "the same work on the same files in the same run (bench/floor.py): "
        "`create table raw.<object> as select * from read_csv([...], all_varchar = true)` "
        "(JSON Lines: `read_json` with every contract column as text) plus lineage columns "
        "from the file name; then, in one connection and in dependency order, dbt's compiled "
        "SQL of every seed, model (as its table or view) and data test (`select count(*)`); "
        "then the marts copied into a fresh file. The floor keeps no ledger, rejects, hashes "
        "or row numbers, enforces no contracts, and runs nodes one at a time where dbt runs "
        "two threads. Model and test figures of ours are sums of dbt's per-node times, which "
        "overlap on two threads; the dbt build line is the step's wall time. Floor figures "
        "are timed from connect to the closed file (the floor's total is its load plus its "
        "build); the better of `--floor-repeat` runs is kept (runs per scale: "
        + ", ".join(f"`{s}` {(results[s].get('floor') or {}).get('repeat', '-')}" for s in scales)
        + "). Project measured (commit, and files changed on top of it when the run "
        "started): "
        + ", ".join(
            f"`{s}` {results[s]['git']['commit'][:7]} (+{len(results[s]['git']['dirty'])})"
            for s in scales
        )
        + ".",
        "",
    ]
    header = "| stage | " + " | ".join(f"`{s}` ours | floor | ratio" for s in scales) + " |"
    lines += [header, "|---|" + "---|---|---|" * len(scales)]
    for key, label in STAGES:
        cells = []
        for s in scales:
            ours = (results[s].get("refresh") or {}).get(key)
            floor = ((results[s].get("floor") or {}).get("split") or {}).get(key)
            if key in ("dbt_overhead", "dbt_prerun", "dagster_overhead", "startup", "parse"):
                floor = 0.0 if (results[s].get("floor") and ours is not None) else None
            r = ratio(ours, floor)
            cells.append(f"{_fmt(ours)} | {_fmt(floor)} | {_fmt(r, 'x')}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| | " + " | ".join(f"`{s}`" for s in scales) + " |",
        "|---|" + "---|" * len(scales),
    ]

    def row(label: str, get: Callable[[Mapping[str, Any]], str]) -> None:
        lines.append(f"| {label} | " + " | ".join(get(results[s]) for s in scales) + " |")

    row("delivery files / data rows (generated)", lambda r: f"{r['files']:,} / {r['rows_truth']:,}")
    row("rows loaded by the full refresh", lambda r: f"{r['rows']:,}")
    row(
        "generate: wall / peak memory",
        lambda r: (
            f"{_fmt(r['generate']['seconds'])} / {_fmt(r['generate']['peak_tree_gb'], ' GB')}"
        ),
    )
    row(
        "full refresh: peak memory (process tree)",
        lambda r: _fmt(r["full"]["process"]["peak_tree_gb"], " GB"),
    )
    row(
        "floor load / build: peak memory",
        lambda r: " / ".join(
            _fmt(((r.get("floor") or {}).get(k) or {}).get("peak_tree_gb"), " GB")
            for k in ("load_process", "build_process")
        ),
    )
    row(
        "other work on the machine meanwhile, in busy cores: refresh / floor load / build",
        lambda r: " / ".join(
            "-" if p is None else f"{p.get('other_cores', 0):.2f}"
            for p in (
                r["full"]["process"],
                (r.get("floor") or {}).get("load_process"),
                (r.get("floor") or {}).get("build_process"),
            )
        ),
    )
    row(
        "dbt nodes: models / tests / seeds",
        lambda r: " / ".join(
            str((r["full"]["dbt"].get(k) or {}).get("nodes", "-"))
            for k in ("model", "test", "seed")
        ),
    )
    row(
        "ingestion checks re-run alone (reconciliation)",
        lambda r: _fmt((r.get("checks") or {}).get("reconcile_seconds")),
    )
    row(
        "daily increment: wall",
        lambda r: _fmt(((r.get("increment") or {}).get("split") or {}).get("total")),
    )
    row(
        "- ingest / dbt build / publish",
        lambda r: " / ".join(
            _fmt(((r.get("increment") or {}).get("split") or {}).get(k))
            for k in ("ingest", "dbt_build", "publish")
        ),
    )
    row(
        "- peak memory",
        lambda r: _fmt(
            ((r.get("increment") or {}).get("process") or {}).get("peak_tree_gb"), " GB"
        ),
    )
    row(
        "increment / full refresh",
        lambda r: "-" if r.get("increment_ratio") is None else f"{r['increment_ratio']:.0%}",
    )
    for model in TRACKED_MODELS:
        row(
            f"`{model}` build, dbt node time: full / increment",
            lambda r, model=model: " / ".join(
                _fmt(((r.get(k) or {}).get("tracked_nodes") or {}).get(model))
                for k in ("full", "increment")
            ),
        )
    row(
        "out of memory (full / increment)",
        lambda r: " / ".join(
            "-" if not r.get(k) else ("yes" if r[k]["out_of_memory"] else "no")
            for k in ("full", "increment")
        ),
    )

    grow = growth(list(results.values()), GROWTH_STAGES)
    if grow:
        lines += [
            "",
            "Growth between successive scales: time ratio against row ratio (the "
            "target is a time ratio no larger than the row ratio).",
            "",
            "| scales | rows | " + " | ".join(GROWTH_STAGES) + " |",
            "|---|---|" + "---|" * len(GROWTH_STAGES),
        ]
        for g in grow:
            cells = []
            for stage in GROWTH_STAGES:
                st = g["stages"][stage]
                mark = "" if st["ok"] in (None, True) else " (faster than rows)"
                cells.append("-" if st["ratio"] is None else f"x{st['ratio']:.2f}{mark}")
            lines.append(
                f"| {g['from']} -> {g['to']} | x{g['rows_ratio']} | " + " | ".join(cells) + " |"
            )

    lines += ["", "Targets (issue 8):", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in targets(results)]

    largest = scales[-1]
    slow = results[largest]["full"].get("slowest_dbt_nodes", [])[:10]
    if slow:
        lines += [
            "",
            f"Slowest dbt nodes at `{largest}` (run_results `execution_time` of the "
            "full refresh; floor: the same compiled SQL alone):",
            "",
            "| node | dbt | floor |",
            "|---|---|---|",
        ]
        for node in slow:
            lines.append(
                f"| `{node['unique_id']}` | {_fmt(node['seconds'])} | "
                f"{_fmt(node.get('floor_seconds'))} |"
            )
    lines += render_increment(results)
    notes = RESULTS / "notes.md"  # profiling findings, written by hand after a run
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    lines += ["", DOC_END]
    return "\n".join(lines) + "\n"


def update_docs(section: str, path: Path = DOCS) -> None:
    text = path.read_text()
    if DOC_START in text and DOC_END in text:
        head, rest = text.split(DOC_START, 1)
        tail = rest.split(DOC_END, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def load_results(folder: Path = RESULTS) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        if "scale" in data and "refresh" in data:
            out[data["scale"]] = data
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.refresh_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", nargs="+", action="extend", choices=SCALE_ORDER, default=[])
    parser.add_argument("--out-json", type=Path, help="results file (one scale only)")
    parser.add_argument("--workdir", type=Path, help="work folder (one scale only)")
    parser.add_argument(
        "--memory-limit",
        default=DEFAULT_MEMORY_LIMIT,
        help="DuckDB memory limit of the refresh (ingestion, dbt, publish) and of the floor",
    )
    parser.add_argument(
        "--increment-scales",
        nargs="*",
        default=["m", "l"],
        help="scales that also time a daily increment (default: m l)",
    )
    parser.add_argument(
        "--increment-day",
        choices=("last-full", "last"),
        default="last-full",
        help="the day the increment loads: the last day with at least half the median day's "
        "files (default; later, partial days are left out of both refreshes), or the last day",
    )
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument(
        "--floor-repeat",
        type=int,
        default=2,
        metavar="N",
        help="run the floor N times, keep the best load and build (default 2)",
    )
    parser.add_argument("--profile", type=int, default=3, metavar="N",
                        help="explain analyze the N slowest dbt models on the floor "
                        "(plans: bench/results/profile-<scale>/)")  # fmt: skip
    parser.add_argument("--keep-data", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="run the working tree, not a copy taken at the start",
    )
    parser.add_argument(
        "--update-docs",
        action="store_true",
        help="render bench/results/*.json into docs/BENCHMARKS.md",
    )
    args = parser.parse_args(argv)
    if len(args.scale) > 1 and (args.out_json or args.workdir):
        parser.error("--out-json and --workdir take one --scale")
    command = "python -m bench.refresh_bench " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    base = {
        "command": command,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "git": git_state(ROOT),
        "memory_limit": args.memory_limit,
    }
    project = ROOT
    snapshot_dir = None
    if args.scale and not args.in_place:
        snapshot_dir = Path(f"/tmp/bench-refresh-src-{os.getpid()}")
        shutil.rmtree(snapshot_dir, ignore_errors=True)
        base["project_files"] = snapshot_project(ROOT, snapshot_dir)
        project = snapshot_dir
    try:
        for scale in sorted(args.scale, key=SCALE_ORDER.index):
            data = ScaleRun(scale, args, project, base).run()
            print(json.dumps({"scale": scale, "refresh": data.get("refresh")}), flush=True)
    finally:
        if snapshot_dir:
            shutil.rmtree(snapshot_dir, ignore_errors=True)
    if args.update_docs:
        update_docs(render(load_results()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
