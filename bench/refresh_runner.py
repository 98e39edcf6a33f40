"""One `run_refresh` in this process, its RefreshResult written as JSON (for bench.refresh_bench).

    python -m bench.refresh_runner --landing DIR --warehouse FILE --serving DIR --out-json FILE

The benchmark runs this as a subprocess so that it can sample the memory of the refresh and of
the dbt process it starts, and so that the refresh pays its own imports and start-up.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.refresh_runner", description=__doc__)
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--serving", type=Path, required=True)
    parser.add_argument("--out-json", type=Path, required=True)
    parser.add_argument(
        "--cprofile",
        type=Path,
        help="write cProfile stats of the refresh's main thread (Dagster's steps, the dbt "
        "step's plan and event handling; not dbt's own threads) to this file",
    )
    args = parser.parse_args(argv)
    clock = time.perf_counter()
    from revops.refresh import (  # timed: the refresh pays them
        ensure_manifest,
        environment,
        run_refresh,
    )

    import_seconds = time.perf_counter() - clock

    # What run_refresh(parse=True) does first, timed on its own: `dbt parse` with the paths
    # of this refresh in the environment (the build then sees the same profile).
    env = {
        "REVOPS_LANDING": str(args.landing.resolve()),
        "REVOPS_WAREHOUSE": str(args.warehouse.resolve()),
        "REVOPS_SERVING": str(args.serving.resolve()),
    }
    parse_clock = time.perf_counter()
    with environment(env):
        ensure_manifest()
    parse_seconds = time.perf_counter() - parse_clock
    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    result = run_refresh(args.landing, args.warehouse, args.serving, parse=False)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.cprofile)
    out = asdict(result)
    out["parse_seconds"] = round(parse_seconds, 3)
    # the parts outside the job's steps, in order: imports of revops (not Dagster's: those
    # are in `load_job`), the parse check, then run_refresh's own (RefreshResult.timings)
    out["timings"] = {
        "import": round(import_seconds, 3),
        "parse_check": round(parse_seconds, 3),
        **result.timings,
    }
    out["process_seconds"] = round(time.perf_counter() - clock, 3)
    args.out_json.write_text(json.dumps(out, indent=1, default=str) + "\n")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
