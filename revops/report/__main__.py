"""`python -m revops.report --serving-db F --out F`: write the report of a serving file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from revops import publish
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
    folder = args.serving_db.parent
    if args.out is None and (folder / publish.CURRENT_LINK).is_symlink():
        # a serving folder: rebuild the served snapshot's report and serve it with that
        # snapshot (docs/SERVING.md), rather than write over the link readers open
        built = {}

        def build(snapshot_db: Path, out: Path) -> None:
            built["result"] = build_report(snapshot_db, out, args.attribution_model)

        path = publish.publish_report(folder, build)
        result = built["result"]
        print(f"{path} ({result.bytes:,} bytes, {len(result.figures)} charts)")
        return 0
    out = args.out or args.serving_db.with_name("report.html")
    result = build_report(args.serving_db, out, args.attribution_model)
    print(f"{result.path} ({result.bytes:,} bytes, {len(result.figures)} charts)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
