"""Runs the dbt project (the models, seeds and tests) against a warehouse file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent

# The last manifest read per path, with the (size, mtime) of the file it was read from.
_MANIFESTS: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}
_MANIFESTS_LOCK = threading.Lock()


def read_manifest(path: Path) -> dict[str, Any]:
    """dbt's manifest.json at `path`, parsed once per version of the file in this process.

    A refresh reads the 5 MB manifest in several places (the build's incremental and test-scope
    plans, the explanation of failed checks, the publish step's list of marts): ~0.15 s each.
    The same dict is returned to every caller until the file changes (its size or modification
    time): callers must not modify it."""
    path = Path(path).resolve()
    stat = path.stat()
    version = (stat.st_size, stat.st_mtime_ns)
    with _MANIFESTS_LOCK:
        cached = _MANIFESTS.get(path)
        if cached is not None and cached[0] == version:
            return cached[1]
    data = path.read_bytes()
    try:
        import orjson  # dagster-dbt's dependency: ~3x faster than json on a manifest
    except ImportError:  # pragma: no cover
        manifest = json.loads(data)
    else:
        manifest = orjson.loads(data)
    with _MANIFESTS_LOCK:
        _MANIFESTS[path] = (version, manifest)
    return manifest


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
