"""dbt commands run by tests: the project's own dbt, with its target and logs in a scratch
folder so that tests never share (or clobber) the project's target/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_dbt(*args: str, base: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`dbt <args>` on this project with `--target-path base/target --log-path base/logs`."""
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.run(
        [
            str(dbt),
            *args,
            "--profiles-dir",
            str(ROOT),
            "--project-dir",
            str(ROOT),
            "--target-path",
            str(base / "target"),
            "--log-path",
            str(base / "logs"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
