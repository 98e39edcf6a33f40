"""Runs the dbt project (the models, seeds and tests) against a warehouse file."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass
class BuildResult:
    ok: bool
    summary: str  # dbt's closing "Done. PASS=... ERROR=..." line
    output: str


def dbt_build(warehouse: Path, select: str | None = None) -> BuildResult:
    """`dbt build` of the project into `warehouse`; artifacts go to a temporary folder."""
    if not (PROJECT_DIR / "dbt_project.yml").exists():
        raise FileNotFoundError(f"no dbt project at {PROJECT_DIR} (run from a revops checkout)")
    dbt = Path(sys.executable).parent / "dbt"
    env = {**os.environ, "REVOPS_WAREHOUSE": str(Path(warehouse).resolve())}
    with tempfile.TemporaryDirectory(prefix="revops-dbt-") as tmp:
        args = [
            str(dbt), "build", "--project-dir", str(PROJECT_DIR), "--profiles-dir",
            str(PROJECT_DIR), "--target-path", str(Path(tmp) / "target"), "--log-path",
            str(Path(tmp) / "logs"),
        ]  # fmt: skip
        if select:
            args += ["--select", select]
        done = subprocess.run(args, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if "Done. PASS=" in line]
    summary = lines[-1].split("Done. ", 1)[1] if lines else "dbt did not finish"
    return BuildResult(ok=done.returncode == 0, summary=summary, output=done.stdout)
