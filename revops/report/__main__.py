"""`python -m revops.report --serving-db F --out F`: write the report of a serving file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from revops.report.build import build_report
from revops.report.data import ATTRIBUTION_MODELS, DEFAULT_ATTRIBUTION_MODEL


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, build the report and print its path."""
    parser = argparse.ArgumentParser(prog="python -m revops.report", description=__doc__)
    parser.add_argument("--serving-db", type=Path, required=True, help="serving DuckDB file")
    parser.add_argument("--out", type=Path, help="HTML file (default: report.html beside it)")
    parser.add_argument(
        "--attribution-model", choices=ATTRIBUTION_MODELS, default=DEFAULT_ATTRIBUTION_MODEL
    )
    args = parser.parse_args(argv)
    out = args.out or args.serving_db.with_name("report.html")
    result = build_report(args.serving_db, out, args.attribution_model)
    print(f"{result.path} ({result.bytes:,} bytes, {len(result.figures)} charts)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
