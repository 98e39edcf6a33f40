"""What an ingestion run did: one `FileResult` per file attempt, rolled up per object and run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from revops import contract
from revops.contract import ExportObject

LOADED = "loaded"
DUPLICATE = "duplicate"
FAILED = "failed"
STATUSES = (LOADED, DUPLICATE, FAILED)
# Quarantined cells named per object in the summary (raw._quarantine holds them all).
QUARANTINE_SAMPLES = 5

# A source object's delivery status, as the published snapshot (`revops_sources.status`) and
# the report show it. An optional object (`ExportObject.optional`, e.g. Salesforce's
# OpportunityStage metadata) that was never delivered is not a problem: the models fall back
# to the mapping seeds.
SOURCE_OK = "ok"
SOURCE_FAILED = "failed"
SOURCE_MISSING = "missing"
SOURCE_OPTIONAL_NOT_DELIVERED = "not delivered (optional)"


def source_status(
    obj: ExportObject,
    files_loaded: int,
    files_failed: int,
    delivered_sources: Iterable[str] | None = None,
) -> str:
    """`failed` if a file's latest attempt failed, else `ok` if a file loaded, else `missing`,
    or `not delivered (optional)` for an optional object or one of the CRM a company does not
    use (`delivered_sources`: the sources with a delivery; contract.ALTERNATIVE_SOURCES).
    Counts are of the object's files in the ledger (latest attempt per file)."""
    if files_failed:
        return SOURCE_FAILED
    if files_loaded:
        return SOURCE_OK
    expected = obj.expected(delivered_sources) if delivered_sources is not None else None
    if obj.optional or expected is False:
        return SOURCE_OPTIONAL_NOT_DELIVERED
    return SOURCE_MISSING


def unknown_path_warning(path: str) -> str:
    """The warning for a landing path no contract object claims (`unknown_entries`), worded
    the same by `revops ingest`, `revops refresh` and the Dagster check."""
    return f"{path} is not an object of the export contract (not loaded)"


@dataclass
class FileResult:
    """One attempt at one file: exactly the row it leaves in `raw._load_ledger`."""

    rel_path: str
    sha256: str
    size: int
    mtime_ns: int | None
    delivery_date: dt.date | None
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime
    rows_read: int | None = None
    # Data records by the probe's own count, independent of DuckDB's reader (see probe.py).
    rows_counted: int | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    # Rows held back in `raw._quarantine` (a value staging cannot cast, a required value
    # empty); None when the file's rows were not read.
    rows_quarantined: int | None = None
    error: str | None = None
    is_new_version: bool = False
    previous_sha256: str | None = None
    duplicate_of: str | None = None
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """`<file>: <problem>`, the form every error of the ingestion takes."""
        return f"{self.rel_path}: {self.error}"


@dataclass
class ObjectSummary:
    """The outcome of ingesting one source object's new files."""

    source: str
    object: str
    raw_table: str
    files: list[FileResult] = field(default_factory=list)
    files_unchanged: int = 0  # already in the ledger: not read again
    files_settling: int = 0  # modified too recently (min_age_seconds): left for the next run
    errors: list[str] = field(default_factory=list)  # object-level errors (not tied to a file)
    seconds: float = 0.0
    raw_rows: int | None = None  # rows in the raw table after the run
    # `<file>: <error>` of the object's open failed files: paths whose latest attempt failed
    # (this run's or an earlier one's; revops/ingest/ledger.py): what someone has to fix or
    # re-deliver.
    unresolved: list[str] = field(default_factory=list)
    files_present: int = 0  # files in the object's landing folder, handled before or not
    optional: bool = False  # the contract's `ExportObject.optional`
    # `<file> row <n>, column <c>: <value> (<rule>)` of the first rows this run quarantined
    # (at most QUARANTINE_SAMPLES; `rows_quarantined` counts them all).
    quarantine_samples: list[str] = field(default_factory=list)

    @property
    def never_delivered(self) -> bool:
        """No file in the landing folder and no row in the raw table."""
        return self.files_present == 0 and not self.raw_rows and not self.errors

    @property
    def folder(self) -> str:
        return f"{self.source}/{self.object}"

    def _count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def files_loaded(self) -> int:
        return self._count(LOADED)

    @property
    def files_duplicate(self) -> int:
        return self._count(DUPLICATE)

    @property
    def files_failed(self) -> int:
        return self._count(FAILED)

    @property
    def new_versions(self) -> int:
        return sum(1 for f in self.files if f.status == LOADED and f.is_new_version)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files if f.status == LOADED)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files if f.status == LOADED)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined or 0 for f in self.files if f.status == LOADED)

    @property
    def extra_columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for f in self.files:
            if f.status == LOADED:
                seen.update(dict.fromkeys(f.extra_columns))
        return list(seen)

    @property
    def all_errors(self) -> list[str]:
        """Every problem of this object: object-level errors, then each failed file's."""
        return self.errors + [f.message for f in self.files if f.status == FAILED]

    @property
    def ok(self) -> bool:
        return not self.all_errors

    def to_row(self) -> dict[str, Any]:
        return {
            "object": self.folder,
            "raw_table": f"raw.{self.raw_table}",
            "files_new": len(self.files),
            "files_loaded": self.files_loaded,
            "files_duplicate": self.files_duplicate,
            "files_failed": self.files_failed,
            "new_versions": self.new_versions,
            "files_unchanged": self.files_unchanged,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "rows_quarantined": self.rows_quarantined,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class IngestSummary:
    """The outcome of `ingest_landing`: per object, plus what the landing folder held unclaimed."""

    load_id: str
    landing: str
    warehouse: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    objects: list[ObjectSummary] = field(default_factory=list)
    unknown_paths: list[str] = field(default_factory=list)  # folders no contract object claims

    @property
    def ok(self) -> bool:
        """True when no file failed and no object hit an error."""
        return all(o.ok for o in self.objects)

    @property
    def errors(self) -> list[str]:
        return [e for o in self.objects for e in o.all_errors]

    @property
    def files_loaded(self) -> int:
        return sum(o.files_loaded for o in self.objects)

    @property
    def files_duplicate(self) -> int:
        return sum(o.files_duplicate for o in self.objects)

    @property
    def files_failed(self) -> int:
        return sum(o.files_failed for o in self.objects)

    @property
    def rows_loaded(self) -> int:
        return sum(o.rows_loaded for o in self.objects)

    @property
    def rows_rejected(self) -> int:
        return sum(o.rows_rejected for o in self.objects)

    @property
    def rows_quarantined(self) -> int:
        return sum(o.rows_quarantined for o in self.objects)

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per object (same keys, in display order): ready for a table printer."""
        return [o.to_row() for o in self.objects]

    def totals(self) -> dict[str, Any]:
        """The `to_rows()` columns summed over every object, with `object` = "total"."""
        rows = self.to_rows()
        total: dict[str, Any] = {"object": "total", "raw_table": ""}
        for key in rows[0] if rows else []:
            if key not in total:
                total[key] = round(sum(r[key] for r in rows), 2)
        return total

    def format_table(self) -> str:
        """A plain-text table of `to_rows()` plus totals and every error, for logs and the CLI."""
        rows = [*self.to_rows(), self.totals()] if self.objects else []
        if not rows:
            return "no objects ingested"
        keys = list(rows[0])
        widths = {k: max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
        lines = ["  ".join(k.ljust(widths[k]) for k in keys)]
        for i, row in enumerate(rows):
            if i == len(rows) - 1:
                lines.append("  ".join("-" * widths[k] for k in keys))
            cells = []
            for k in keys:
                value = str(row.get(k, ""))
                cells.append(
                    value.ljust(widths[k])
                    if k in ("object", "raw_table")
                    else value.rjust(widths[k])
                )
            lines.append("  ".join(cells))
        settling = sum(o.files_settling for o in self.objects)
        if settling:
            lines.append(
                f"note: {settling} file(s) modified too recently were left for the next run"
            )
        for path in self.unknown_paths:
            lines.append(f"warning: {unknown_path_warning(path)}")
        absent = [o for o in self.objects if o.never_delivered]
        unused = contract.unused_sources(o.source for o in self.objects if not o.never_delivered)
        required = [o.folder for o in absent if not o.optional and o.source not in unused]
        optional = [o.folder for o in absent if o.optional or o.source in unused]
        if required:
            lines.append(f"warning: never delivered: {', '.join(required)}")
        if optional:
            lines.append(
                f"note: optional object(s) not delivered (not a problem): {', '.join(optional)}"
            )
        for o in self.objects:
            if o.rows_quarantined:
                lines.append(
                    f"warning: {o.folder}: {o.rows_quarantined} row(s) quarantined (kept out of "
                    "raw until a corrected version arrives; raw._quarantine), e.g. "
                    + "; ".join(o.quarantine_samples)
                )
        lines.extend(f"error: {e}" for e in self.errors)
        return "\n".join(lines)
