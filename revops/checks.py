"""Failing and warning dbt checks, explained: name, one-line meaning, failing rows, sample rows.

After a dbt build, `explain_checks` reads the build's run_results.json (each test's status,
failure count and compiled SQL) and the manifest (each test's description, or for a generic
test a sentence built from its arguments), and runs each non-passing test's compiled SQL again
with `limit 5` against the warehouse for sample rows. The result is written beside the
warehouse (`dbt_checks.json`); `revops refresh` prints it, the snapshot keeps it
(`revops_checks`) and the report shows it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

CHECKS_FILE = "dbt_checks.json"  # beside the warehouse, rewritten by every build
SAMPLE_ROWS = 5
_MAX_VALUE = 120  # characters of one sample value kept
NOT_PASSING = ("fail", "warn", "error")
# Sample rows reach the snapshot and the served report: personal data never does. A column
# whose name looks personal (the publish policy's pattern) and any value that looks like an
# e-mail address are replaced by a short hash (equal values, equal hashes).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.I)


@dataclass
class CheckOutcome:
    """One dbt test that did not pass."""

    name: str  # the test's name (the Dagster asset check's name)
    status: str  # fail (blocking), warn, or error (the test itself could not run)
    severity: str  # error | warn, as configured
    meaning: str  # one line: what must hold
    failures: int | None  # failing rows (None when the test errored)
    model: str | None = None  # the model (or source) it tests, when it tests one
    column: str | None = None
    samples: list[dict[str, str | None]] = field(default_factory=list)
    sample_error: str | None = None  # why no samples could be read
    message: str | None = None  # dbt's message (the error of an errored test)

    @property
    def blocking(self) -> bool:
        return self.status != "warn"

    def sample_keys(self) -> list[str]:
        """Each sample row on one line: `column=value, ...`."""
        return [", ".join(f"{k}={v}" for k, v in row.items()) for row in self.samples]


def _node_name(unique_id: str | None) -> str | None:
    if not unique_id:
        return None
    parts = unique_id.split(".")
    return ".".join(parts[2:]) if parts[0] == "source" else parts[-1]


def _model_of(kwargs: dict[str, Any], attached: str | None) -> str | None:
    model = kwargs.get("model")
    if isinstance(model, str):
        found = re.search(r"(?:ref|source)\(([^)]*)\)", model)
        if found:
            return ".".join(p.strip(" '\"") for p in found.group(1).split(","))
    return _node_name(attached)


def meaning(node: dict[str, Any]) -> str:
    """A test's one-line meaning: its description, else a sentence from its arguments."""
    description = " ".join((node.get("description") or "").split())
    if description:
        return description
    metadata = node.get("test_metadata") or {}
    test = metadata.get("name") or node.get("name", "test")
    kwargs = metadata.get("kwargs") or {}
    model = _model_of(kwargs, node.get("attached_node")) or "the model"
    column = kwargs.get("column_name") or node.get("column_name")
    target = f"{model}.{column}" if column else model
    if test == "not_null":
        return f"not_null: {target} must not be empty"
    if test == "unique":
        return f"unique: {target} must be unique (no value on two rows)"
    if test == "accepted_values":
        values = kwargs.get("values") or (kwargs.get("arguments") or {}).get("values") or []
        listed = ", ".join(str(v) for v in values[:12]) + (", ..." if len(values) > 12 else "")
        return f"accepted_values: {target} must be one of {listed}"
    if test == "relationships":
        to = _model_of({"model": str(kwargs.get("to", ""))}, None) or str(kwargs.get("to"))
        return f"relationships: every {target} must exist in {to}.{kwargs.get('field')}"
    if test == "unique_combination":
        columns = kwargs.get("columns") or kwargs.get("combination_of_columns") or []
        return f"unique_combination: ({', '.join(columns)}) must be unique in {model}"
    args = ", ".join(
        f"{k}={v}" for k, v in kwargs.items() if k not in ("model", "column_name") and v
    )
    return f"{test}: {target} must pass" + (f" ({args})" if args else "")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal | float):
        text = format(value, "f") if isinstance(value, Decimal) else repr(value)
    elif isinstance(value, dt.datetime | dt.date):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."


def _redacted(column: str, value: str | None) -> str | None:
    from revops.publish import PII_NAME

    if value is None:
        return None
    if PII_NAME.search(column.lower()) or _EMAIL.search(value):
        digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:12]
        return f"<redacted {digest}>"
    return value


def sample_rows(
    con: duckdb.DuckDBPyConnection, compiled_sql: str, limit: int = SAMPLE_ROWS
) -> list[dict[str, str | None]]:
    """Up to `limit` distinct rows of a test's compiled SQL (the rows that make it fail),
    personal data redacted."""
    sql = compiled_sql.strip().rstrip(";")
    # ordered, so that the same failure shows the same samples on every run (a test puts the
    # column that matters most first)
    cursor = con.execute(
        f"select distinct * from (\n{sql}\n) as failing order by all limit {int(limit)}"
    )
    names = [d[0] for d in cursor.description]
    return [
        {n: _redacted(n, _text(v)) for n, v in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def explain_checks(
    run_results: dict[str, Any],
    manifest: dict[str, Any],
    warehouse: Path | None,
    limit: int = SAMPLE_ROWS,
) -> list[CheckOutcome]:
    """Every test of a dbt run that failed, warned or errored, blocking ones first.

    `warehouse`: the DuckDB file the run built (opened read-only for the samples; the build
    must have finished). None (e.g. a Spark build): no samples.
    """
    nodes = manifest.get("nodes", {})
    outcomes = []
    con = None
    try:
        for result in run_results.get("results", []):
            unique_id = result.get("unique_id", "")
            status = result.get("status")
            if not unique_id.startswith("test.") or status not in NOT_PASSING:
                continue
            node = nodes.get(unique_id, {})
            metadata = node.get("test_metadata") or {}
            kwargs = metadata.get("kwargs") or {}
            severity = str((node.get("config") or {}).get("severity") or "error").lower()
            outcome = CheckOutcome(
                name=node.get("name") or unique_id.split(".")[2],
                status=status,
                severity=severity,
                meaning=meaning(node) if node else unique_id,
                failures=result.get("failures") if status != "error" else None,
                model=_model_of(kwargs, node.get("attached_node")),
                column=kwargs.get("column_name") or node.get("column_name"),
                message=(result.get("message") or None) if status == "error" else None,
            )
            code = result.get("compiled_code")
            if status == "error":
                outcome.sample_error = "the test could not run"
            elif warehouse is None or not code:
                outcome.sample_error = "no sample rows (not a DuckDB build)"
            else:
                try:
                    if con is None:
                        con = duckdb.connect(str(warehouse), read_only=True)
                    outcome.samples = sample_rows(con, code, limit)
                except duckdb.Error as exc:
                    outcome.sample_error = f"sample rows not read: {str(exc).splitlines()[0]}"
            outcomes.append(outcome)
    finally:
        if con is not None:
            con.close()
    order = {"error": 0, "fail": 1, "warn": 2}
    return sorted(outcomes, key=lambda o: (order.get(o.status, 3), o.name))


def write_checks(path: Path, run_id: str, outcomes: list[CheckOutcome]) -> None:
    """Write the outcomes of one build (JSON; readers match `run_id`)."""
    payload = {
        "run_id": run_id,
        "written_at": dt.datetime.now(dt.UTC).isoformat(),
        "checks": [asdict(o) for o in outcomes],
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(path)


def read_checks(path: Path, run_id: str | None = None) -> list[CheckOutcome] | None:
    """The outcomes written for `run_id` (any run when None); None if there are none."""
    try:
        payload = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if run_id is not None and payload.get("run_id") != run_id:
        return None
    return [CheckOutcome(**c) for c in payload.get("checks", [])]


def checks_path(warehouse: Path) -> Path:
    """Where a build's outcomes are written: beside the warehouse."""
    return Path(warehouse).with_name(CHECKS_FILE)
