"""The malformed-file corpus: bad delivery files, each with its documented outcome.

Every case adds its files to ONE shared landing folder (the generated `xs` company's, copied),
one `revops refresh` runs over it all, and `tests/test_malformed_corpus.py` checks each case's
expectations against the ledger, the rejects, the raw tables, the served snapshot and what the
CLI printed. tests/corpus/README.md says how to add a case.

A case is a `Case`: a name, a `build` function that writes its files through a `Landing`, and
what must follow. Cases live in modules `tests/corpus/cases_<topic>.py`, each with a module
list `CASES`; `collect_cases()` finds every such module, so a new topic is a new module and
nothing else changes.
"""

from __future__ import annotations

import csv
import importlib
import json
import pkgutil
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEAD = "salesforce/Lead"
COUPONS = "stripe/coupons"
# The delivery folder of the cases' files: the generated company's newest Lead delivery (the
# runner checks it), so that freshness and the report's dates do not move.
DAY = "2025-12-30"


@dataclass(frozen=True)
class FileExpect:
    """The single ledger row the refresh writes for one path of the case (a file, or a folder
    that fails as a whole: a symlink out of the landing folder, a loop).

    Every field is compared exactly, `None` included (a null in the ledger); `error` is a
    substring of the ledger's error (None: the error is null). `rows_quarantined` defaults to
    what a file with no bad cell has (`QUARANTINE_AUTO`): 0 when its rows were read, else null."""

    path: str  # relative to the landing folder, as `raw._load_ledger.file_path`
    status: str  # loaded, duplicate, failed
    rows_read: int | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_counted: int | None = None
    error: str | None = None
    duplicate_of: str | None = None
    extra_columns: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] | None = None  # None: not compared
    rows_quarantined: int | str | None = "auto"

    @property
    def quarantined_count(self) -> int | None:
        if self.rows_quarantined == QUARANTINE_AUTO:
            return 0 if self.rows_read is not None else None
        return self.rows_quarantined  # type: ignore[return-value]


QUARANTINE_AUTO = "auto"


@dataclass(frozen=True)
class QuarantineExpect:
    """One row of `raw._quarantine` (a quarantined row's failing column) for a file of the
    case. The case's quarantined cells are compared as a whole: exactly these (path, row
    number, column, rule, released), no more. `value` (the delivered text) when given."""

    path: str
    row_number: int
    column: str
    rule: str  # cast:<contract type> or required
    released: bool = False
    value: str | None = None


@dataclass(frozen=True)
class RejectExpect:
    """One row of `raw._rejects` for a file of the case. The case's rejects are compared as a
    whole: exactly these (path, error type, column, row number), no more. When given: `error`
    (a substring), `raw_line` (exact), `raw_line_starts` and `raw_line_length` (characters)."""

    path: str
    error_type: str
    column: str | None
    row_number: int
    error: str | None = None
    raw_line: str | None = None
    raw_line_starts: str | None = None
    raw_line_length: int | None = None


@dataclass(frozen=True)
class Marker:
    """A row of the case, found by its key: whether it is in its raw table, and whether it is
    in the served snapshot (`published`; None: not asserted, and the case's `about` says why).

    Lead rows are looked up in the served `fct_lead_funnel` (one row per lead); a row of an
    object no mart lists by key has `mart=None` and `published=None`."""

    key: str
    in_raw: bool
    published: bool | None
    raw_table: str = "salesforce__lead"
    raw_column: str = "Id"
    mart: str | None = "fct_lead_funnel"
    mart_column: str = "lead_id"


@dataclass(frozen=True)
class RawCell:
    """A value in a raw table, exactly as delivered (text)."""

    key: str
    column: str
    value: str | None
    raw_table: str = "salesforce__lead"
    key_column: str = "Id"


@dataclass(frozen=True)
class Case:
    """One malformed-file case and everything its refresh must show.

    `shown`: substrings of the CLI output (compared with runs of whitespace as one space, as
    the terminal wraps). `never_shown`: text that must appear nowhere: CLI output, dbt's log,
    any warehouse table, the served snapshot (a secret behind a symlink, say).
    `not_in_ledger`: paths that must have no ledger row (folders the contract does not know).
    `isolated`: the case cannot share the landing folder (it would change what the shared
    refresh shows for every case: blocking publishing, say); its files are written to a landing
    folder of their own and loaded by `ingest_landing` alone, with no refresh. Its markers'
    `published` must then be None (not applicable), and `shown` is matched against the ingest
    summary's table and errors. Say why in `about`.
    """

    name: str
    about: str  # the finding or behaviour the case pins down, and any expectation left out
    build: Callable[[Landing], None]
    files: tuple[FileExpect, ...] = ()
    rejects: tuple[RejectExpect, ...] = ()
    markers: tuple[Marker, ...] = ()
    raw_cells: tuple[RawCell, ...] = ()
    shown: tuple[str, ...] = ()
    never_shown: tuple[str, ...] = ()
    not_in_ledger: tuple[str, ...] = ()
    quarantined: tuple[QuarantineExpect, ...] = ()
    isolated: bool = False

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]


def collect_cases() -> list[Case]:
    """Every `CASES` entry of every `tests/corpus/cases_*.py` module, in module order."""
    cases: list[Case] = []
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        if module.startswith("cases_"):
            cases.extend(importlib.import_module(f"{__name__}.{module}").CASES)
    names = [c.name for c in cases]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"corpus case names must be unique: {', '.join(duplicated)}")
    return cases


# ---------------------------------------------------------------------------------------------
# Writing a case's files


def lead_id(case: str, i: int) -> str:
    """An 18-character Salesforce-like Lead Id, unique to (case, i): the marker of a row."""
    return f"00Q{zlib.crc32(case.encode()) % 10**9:09d}{i:04d}AA"


def coupon_id(case: str, i: int) -> str:
    return f"CORPUS-{case}-{i}"


def file_name(case: str, suffix: str) -> str:
    """A file name no other case and no generated file uses."""
    return f"corpus-{case}{suffix}"


@dataclass
class Landing:
    """The shared landing folder, as the builders see it.

    Cases deliver into the folder `DAY` under file names that carry the case's name (see
    `file_name`). `outside` is a folder outside the landing
    folder (for symlink targets). Rows are copies of a real Lead (unconverted) and a real
    coupon of the company with a new key, so that they build like any other row."""

    root: Path
    outside: Path
    lead_columns: list[str] = field(default_factory=list)
    _lead: dict[str, str] = field(default_factory=dict)
    _coupon: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, root: Path, outside: Path) -> Landing:
        with (root / LEAD / DAY / "Lead.csv").open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or ())
            template = next(
                r for r in reader if r["IsConverted"] == "false" and r["IsDeleted"] == "false"
            )
        coupon_file = next((root / COUPONS).rglob("*.jsonl"))
        coupon = json.loads(coupon_file.read_text(encoding="utf-8").splitlines()[0])
        return cls(root, outside, columns, template, coupon)

    def write(self, rel_path: str, content: bytes) -> Path:
        target = self.root / rel_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        return target

    def lead(self, case: str, i: int, **values: str) -> dict[str, str]:
        """A real Lead row with the Id `lead_id(case, i)`, its own email, and `values`."""
        key = lead_id(case, i)
        local, _, domain = self._lead["Email"].partition("@")
        return {**self._lead, "Id": key, "Email": f"{key.lower()}.{local}@{domain}", **values}

    def leads(self, case: str, n: int, **values: str) -> list[dict[str, str]]:
        return [self.lead(case, i, **values) for i in range(1, n + 1)]

    def lead_csv(
        self,
        rows: Sequence[dict[str, str]],
        *,
        columns: Sequence[str] | None = None,
        newline: str = "\n",
    ) -> bytes:
        """A CSV file as Salesforce's exports write it (every field quoted)."""
        return csv_bytes(columns or self.lead_columns, rows, newline)

    def coupon(self, case: str, i: int, **values: Any) -> dict[str, Any]:
        return {**self._coupon, "id": coupon_id(case, i), **values}


def csv_bytes(columns: Sequence[str], rows: Sequence[dict[str, Any]], newline: str = "\n") -> bytes:
    """Salesforce's CSV: every value quoted, an empty value (null) left empty."""

    def field(value: Any) -> str:
        text = "" if value is None else str(value)
        return "" if text == "" else '"' + text.replace('"', '""') + '"'

    lines = [",".join(map(field, columns))]
    lines += [",".join(field(row.get(c)) for c in columns) for row in rows]
    return "".join(line + newline for line in lines).encode("utf-8")


def jsonl_bytes(rows: Sequence[dict[str, Any]], newline: str = "\n") -> bytes:
    return "".join(json.dumps(r, separators=(",", ":")) + newline for r in rows).encode("utf-8")
