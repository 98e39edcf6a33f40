"""Loads new delivery files into `raw.<source>__<object>` with DuckDB's own readers.

How one object is loaded (docs/INGESTION.md has the full story):

1. List the object's files; skip those the ledger already handled (same path, size, mtime).
2. Probe each new file in Python: sha256, binary/encoding problems, the CSV header, and an
   independent count of its records. Files whose bytes were already loaded become `duplicate`;
   files that cannot be read become `failed`; files with mixed line endings are read from a copy
   with LF endings only.
3. Load the rest in batches: one DuckDB read of many files (`read_csv([...])` or
   `read_json_objects([...])`, with `file_index`) into a temp table whose row order numbers each
   file's rows. Per-file counts and reader rejects then decide, per file, to keep or fail it
    (rows read must add up to the probe's count, or the file fails rather than lose rows).
    Every row of a kept file is checked against the contract in SQL (revops/ingest/quarantine.py):
    a value staging cannot cast, or an empty required value, sends the row to `raw._quarantine`
    instead of raw. One transaction appends the kept files' rows, their rejects and quarantined
    rows, releases quarantined rows that a corrected version supersedes, and writes every file's
    ledger row. A file whose counts do not add up in a batch of several is first loaded again on
    its own (DuckDB can drop a cut last record of one file of many without reporting it).
   A batch that DuckDB cannot read as a whole is retried one file at a time, so a bad file
   fails alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb

from revops import contract
from revops.contract import ExportObject
from revops.ingest.landing import DeliveryFile, scan_object, unknown_entries
from revops.ingest.ledger import open_failures
from revops.ingest.probe import (
    MAX_RECORD_BYTES,
    OVERSIZE_PREFIX_CHARS,
    Probe,
    count_csv_records,
    normalise_endings,
    probe_file,
    read_record,
)
from revops.ingest.quarantine import failing_sql, failures_sql, key_sql
from revops.ingest.summary import (
    DUPLICATE,
    FAILED,
    LOADED,
    QUARANTINE_SAMPLES,
    FileResult,
    IngestSummary,
    ObjectSummary,
)
from revops.ingest.warehouse import (
    LEDGER_TABLE,
    LINEAGE_NAMES,
    QUARANTINE_TABLE,
    REJECTS_TABLE,
    REMOVALS_TABLE,
    add_columns,
    connect,
    ensure_raw_table,
    ensure_warehouse,
    ident,
    ledger_state,
    literal,
    raw_table,
    table_columns,
)

# A batch is read by one DuckDB call and committed in one transaction. The caps bound the temp
# table's memory and the work a failing batch redoes file by file.
MAX_BATCH_FILES = 2_000
MAX_BATCH_BYTES = 512 * 1024 * 1024

# Every name the loader uses inside its temp tables starts with this prefix, which delivered
# columns may therefore not use (nor the lineage column names).
_P = "_revops_"
_FIDX = f"{_P}fidx"  # the file's position in the batch (DuckDB's `file_index`)

# JSON Lines that need line-by-line treatment are read by DuckDB's CSV reader as one column:
# \x01 cannot occur in valid JSON, so it never splits a line; blank lines come back as rows,
# so row positions are exact physical line numbers.
_LINE_READER = (
    "columns = {'line': 'VARCHAR'}, header = false, auto_detect = false, delim = '\x01', "
    f"quote = '', escape = '', strict_mode = false, max_line_size = {MAX_RECORD_BYTES}"
)
# The contract's CSV dialect, nothing sniffed: a file that differs fails instead of loading
# with a guessed layout.
_CSV_READER = (
    "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
    f"strict_mode = true, max_line_size = {MAX_RECORD_BYTES}"
)
# DuckDB's rejects table keeps the first 10,000 bytes of a rejected record's text (cut even
# inside a character): a text this long is read again from the file, whole.
_REJECT_TEXT_CUT = 10_000
_STORE_REJECTS = (
    f"store_rejects = true, rejects_table = '{_P}reader_errors', rejects_scan = '{_P}reader_scans'"
)
_LATIN1_HINT = (
    "the contract requires UTF-8; re-export the file as UTF-8 (Latin-1 / Windows-1252 files "
    "are refused rather than guessed)"
)

# Test hook: called inside each batch's transaction just before COMMIT (the crash test sets it
# in a subprocess to kill the load mid-transaction). Production code never sets it.
_before_commit: Callable[[str], None] | None = None


class _SplitBatch(Exception):
    """A batch-level problem that only loading file by file can pin on one file."""


@dataclass
class _Item:
    """A new file that passed the probe and is queued for loading."""

    file: DeliveryFile
    probe: Probe
    previous_sha: str | None
    result: FileResult | None = None
    # What DuckDB reads: the file itself, or its copy with line endings normalised.
    read_path: Path | None = None

    @property
    def data_path(self) -> Path:
        return self.read_path or self.file.path


@dataclass
class _Outcome:
    keep: bool
    rows_read: int | None = 0  # None: the file was not read
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_quarantined: int = 0
    error: str | None = None
    first_rowid: int = 0
    no_key: int = 0  # rows without a key value
    not_json: int = 0  # lines that are not JSON objects


def new_load_id(suffix: str | None = None) -> str:
    """A sortable id for one ingestion run: UTC time to the microsecond, then `suffix` (a
    Dagster run id, say) or a random one."""
    now = dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S%f}Z-{suffix or secrets.token_hex(3)}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _next_load_time(con: duckdb.DuckDBPyConnection, table: str) -> dt.datetime:
    """The `_loaded_at` of a new load into `table`: now, but always after every row already
    there. Incremental dbt models read the rows loaded after the newest they have seen, so a
    clock stepped back (an NTP correction, a load from another host) must not stamp new rows
    at or below that watermark, where they would never be read."""
    now = _now()
    (latest,) = con.execute(f"select max(_loaded_at) from {table}").fetchone()
    if latest is not None and latest >= now:
        return latest + dt.timedelta(microseconds=1)
    return now


def _duckdb_message(exc: BaseException) -> str:
    """The first line of a DuckDB error, without its class prefix."""
    text = str(exc).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    for prefix in ("Invalid Input Error: ", "Conversion Error: ", "IO Error: ", "Binder Error: "):
        text = text.removeprefix(prefix)
    return text


def _os_message(exc: OSError) -> str:
    """An OS error without the path it names (which may be outside the landing folder)."""
    return exc.strerror or type(exc).__name__


# ---------------------------------------------------------------------------------------------
# Column checks


def _reserved(name: str) -> bool:
    # A column named `rowid` or `file_index` would shadow the DuckDB virtual columns that
    # number a batch's rows and tell its files apart. DuckDB names are case-insensitive, so
    # `_FILE_PATH` would clash with the lineage column `_file_path`.
    return (
        name.lower() in LINEAGE_NAMES
        or name.lower().startswith(_P)
        or name.lower() in ("rowid", "file_index")
    )


def _case_twin(name: str, existing: Iterable[str]) -> str | None:
    """An existing column equal to `name` but for case (DuckDB names are case-insensitive)."""
    for other in existing:
        if other != name and other.lower() == name.lower():
            return other
    return None


def canonical_header(
    obj: ExportObject, names: Sequence[str], table_cols: Sequence[str]
) -> list[str]:
    """The CSV header with each name spelled as the contract (or the raw table) spells it.

    CSV header matching ignores case: `ID`, `id` and `Id` are the contract column `Id`.
    Salesforce API names are case-insensitive by definition (SOQL, Data Loader's all-caps
    option), and for every other CSV source a name differing only by case can only mean the
    same column, since raw column names are case-insensitive in DuckDB (and in Spark's default
    resolution): the choice is between loading it there and failing the file. JSON keys stay
    case-sensitive (see `_check_new_keys`). Spaces are not ignored: `" Status"` stays as it is.
    """
    spelled: dict[str, str] = {}
    for column in [*obj.column_names, *table_cols]:
        spelled.setdefault(column.lower(), column)
    return [spelled.get(name.lower(), name) for name in names]


def check_header(obj: ExportObject, names: Sequence[str], table_cols: Sequence[str]) -> str | None:
    """Why a CSV file with this header cannot load into the object's raw table, or None.

    `names` is the header as delivered; required columns are looked up by their canonical
    (case-insensitive) names, see `canonical_header`.
    """
    for i, name in enumerate(names, start=1):
        if name.strip() == "":
            return f"header column {i} has no name"
    seen: dict[str, str] = {}
    for name in names:
        if name.lower() in seen:
            other = seen[name.lower()]
            twice = "twice" if other == name else f"as {other!r} and {name!r}"
            return f"column {name!r} appears {twice} in the header (names are case-insensitive)"
        seen[name.lower()] = name
    reserved = [n for n in names if _reserved(n)]
    if reserved:
        return f"column(s) {', '.join(reserved)} use a name reserved for the loader's columns"
    canonical = canonical_header(obj, names, table_cols)
    missing = [c for c in obj.required_columns if c not in canonical]
    if missing:
        message = f"missing required column(s) {', '.join(missing)}"
        loose = {n.strip().lower(): n for n in names}
        near = [repr(loose[c.lower()]) for c in missing if c.lower() in loose]
        if near:
            message += (
                f" (found {', '.join(near)}: column names must match exactly but for case, "
                "spaces included)"
            )
        elif len(names) == 1:
            for sep, label in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
                if sep in names[0]:
                    message += f" (the header is {label}-delimited; the contract requires commas)"
                    break
            else:
                if names[0].lstrip().startswith(("{", "[")):
                    message += " (the file looks like JSON, not CSV)"
        return message
    for group in obj.required_any:
        if not any(c in canonical for c in group):
            return _missing_group(group, "the header has none of them")
    return None


def _missing_group(group: Sequence[str], why: str) -> str:
    """The error of a file that carries no column of a `required_any` group (at least one of
    them is required: the same field under the names of different API versions)."""
    return f"missing required column group ({' | '.join(group)}): {why}"


def _check_new_keys(keys: Sequence[str], table_cols: Sequence[str]) -> str | None:
    """Why new top-level JSON keys cannot become raw columns, or None."""
    reserved = [k for k in keys if _reserved(k) or k.strip() == ""]
    if reserved:
        return f"key(s) {', '.join(map(repr, reserved))} cannot be raw column names"
    for i, key in enumerate(keys):
        twin = _case_twin(key, [*table_cols, *keys[:i]])
        if twin is not None:
            return f"key {key!r} differs from {twin!r} only by case"
    return None


# ---------------------------------------------------------------------------------------------
# Batch loading


_GLOB_ESCAPES = {"[": "[[]", "*": "[*]", "?": "[?]"}


def _reader_path(path: Path) -> str:
    """`path` as a DuckDB reader argument: its glob characters escaped. Unescaped,
    `Lead[1].csv` would read `Lead1.csv` and `b*.csv` every `b....csv` (checked on 2.0.1)."""
    return "".join(_GLOB_ESCAPES.get(c, c) for c in str(path))


def _create_files_table(con: duckdb.DuckDBPyConnection, items: Sequence[_Item]) -> None:
    """The batch's files, `fidx` being the position DuckDB reports as `file_index`."""
    con.execute(
        f"create or replace temp table {_P}files as select "
        "unnest(range(?)) as fidx, unnest(?::varchar[]) as filename, "
        "unnest(?::varchar[]) as rel_path, unnest(?::varchar[]) as sha256, "
        "unnest(?::date[]) as delivery_date, false as keep",
        [
            len(items),
            [str(i.data_path) for i in items],
            [i.file.rel_path for i in items],
            [i.probe.sha256 for i in items],
            [i.file.delivery_date for i in items],
        ],
    )


def _empty_reader_rejects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"drop table if exists temp.{_P}reader_errors")
    con.execute(f"drop table if exists temp.{_P}reader_scans")
    con.execute(
        f"create or replace temp table {_P}bad (fidx bigint, line_number bigint, "
        "ordinal bigint, column_name varchar, error_type varchar, error varchar, "
        "raw_line varchar, bad_encoding boolean, line_start bigint, cut boolean)"
    )


def _collect_reader_rejects(con: duckdb.DuckDBPyConnection, header_lines: int, fmt: str) -> None:
    """One row per record DuckDB's reader rejected (it reports one row per error), with its
    whole text (see `_complete_reject_texts`)."""
    con.execute(
        f"""
        insert into temp.{_P}bad
        select
            f.fidx,
            e.line,
            e.line - {header_lines},
            arg_min(e.column_name, coalesce(e.column_idx, 0)),
            string_agg(distinct e.error_type, ', '),
            -- one message per record: a short row gets one error per missing column
            arg_min(e.error_message, coalesce(e.column_idx, 0)),
            any_value(e.csv_line),
            bool_or(e.error_type = 'INVALID ENCODING'),
            -- 1-based in DuckDB 2.0.1 (checked: the first byte of the record is at 1)
            min(e.line_byte_position) - 1,
            bool_or(e.error_type = 'LINE SIZE OVER MAXIMUM')
                or max(strlen(e.csv_line)) >= {_REJECT_TEXT_CUT}
        from temp.{_P}reader_errors as e
        join temp.{_P}reader_scans as s using (scan_id, file_id)
        join temp.{_P}files as f on f.filename = s.file_path
        group by f.fidx, e.line
        """
    )
    _complete_reject_texts(con, fmt)


def _complete_reject_texts(con: duckdb.DuckDBPyConnection, fmt: str) -> None:
    """Replace the text DuckDB cut at 10,000 bytes with the record's whole text, read again
    from the file; a record over MAX_RECORD_BYTES keeps its first OVERSIZE_PREFIX_CHARS
    characters, and its error names the limit. Rare (rejected records over 10 kB), so one
    record at a time."""
    cut = con.execute(
        f"""
        select b.fidx, b.line_number, b.line_start, f.filename, left(b.raw_line, 100),
            b.error_type like '%LINE SIZE OVER MAXIMUM%', b.error
        from temp.{_P}bad as b
        join temp.{_P}files as f using (fidx)
        -- a record with invalid UTF-8 fails its file: its text is never stored
        where b.cut and not b.bad_encoding
        """
    ).fetchall()
    for fidx, line, start, filename, head, oversize, error in cut:
        text = None
        if start is not None and start >= 0:
            limit = OVERSIZE_PREFIX_CHARS * 4 if oversize else MAX_RECORD_BYTES
            text = read_record(Path(filename), start, fmt, limit)
            if oversize:
                text = text[:OVERSIZE_PREFIX_CHARS]
            if not text.startswith(head or ""):
                text = None  # not where DuckDB said: keep DuckDB's text
        if oversize:
            size = re.search(r"Actual Size:\s*(\d+)", error or "")
            error = (
                (f"record of {int(size.group(1)):,} bytes is" if size else "record is")
                + f" longer than the maximum of {MAX_RECORD_BYTES:,} bytes "
                f'({MAX_RECORD_BYTES // (1 << 20)} MiB; docs/INGESTION.md, "Large fields"); '
                f"raw_line holds its first {OVERSIZE_PREFIX_CHARS:,} characters"
            )
        con.execute(
            f"update temp.{_P}bad set raw_line = coalesce(?, raw_line), error = ? "
            "where fidx = ? and line_number = ?",
            [text, error, fidx, line],
        )


class _BatchLoader:
    """Loads one batch of files of one object: read, decide per file, commit."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        obj: ExportObject,
        items: Sequence[_Item],
        load_id: str,
    ) -> None:
        self.con = con
        self.obj = obj
        self.items = list(items)
        self.load_id = load_id
        self.by_path = {str(i.data_path): i for i in self.items}
        self.paths = list(self.by_path)  # position = fidx
        self.started = _now()
        # Files to load again on their own: their counts did not add up in this batch's read.
        self.alone: list[_Item] = []
        self.quarantined = False  # whether `temp._revops_qflags` holds rows of this batch
        # CSV rows are all of kind 'ok'; JSON Lines batches carry a kind per line.
        self._kind_column = f", 'ok' as {_P}kind" if obj.format == "csv" else ""

    # -- per-file decisions ---------------------------------------------------------------

    def _stats(self, key_null: str) -> dict[int, tuple[int, ...]]:
        """Per file: first rowid, rows read, ok rows, ok rows without a key, bad-JSON, blank."""
        rows = self.con.execute(
            f"""
            select {_FIDX}, min(rowid), count(*),
                count(*) filter (where {_P}kind = 'ok'),
                count(*) filter (where {_P}kind = 'ok' and ({key_null})),
                count(*) filter (where {_P}kind in ('invalid_json', 'not_object')),
                count(*) filter (where {_P}kind = 'blank')
            from (select *, rowid{self._kind_column} from temp.{_P}batch)
            group by 1
            """
        ).fetchall()
        return {r[0]: r[1:] for r in rows}

    def _bad(self) -> dict[int, tuple]:
        """Per file: rejected records, first one (line, column, error), first bad UTF-8 line."""
        rows = self.con.execute(
            f"""
            select fidx, count(*),
                min(line_number), arg_min(column_name, line_number), arg_min(error, line_number),
                min(line_number) filter (where bad_encoding),
                arg_min(column_name, line_number) filter (where bad_encoding)
            from temp.{_P}bad
            group by 1
            """
        ).fetchall()
        return {r[0]: r[1:] for r in rows}

    def _decide(self, key_null: str, jsonl: bool, fast: bool = False) -> dict[str, _Outcome]:
        stats = self._stats(key_null)
        bad = self._bad()
        outcomes: dict[str, _Outcome] = {}
        self.alone = []
        for fidx, (path, item) in enumerate(self.by_path.items()):
            first, n_read, n_ok, n_nokey, n_notjson, n_blank = stats.get(fidx, (0,) * 6)
            n_bad, line, column, error, enc_line, enc_col = bad.get(fidx, (0,) + (None,) * 5)
            if fast and n_read != item.probe.lines:
                # The JSON reader skipped blank lines: positions would not be line numbers.
                raise _SplitBatch("blank lines")
            rows_read = n_read - n_blank + n_bad
            if enc_line is not None:
                where = f"line {enc_line}" + (
                    f", column {enc_col}" if enc_col and not jsonl else ""
                )
                error = f"not valid UTF-8 ({where}): {_LATIN1_HINT}"
                outcomes[path] = _Outcome(False, rows_read, error=error)
            elif rows_read > 0 and n_ok == 0:
                outcomes[path] = _Outcome(
                    False, rows_read, error=self._nothing_loadable(fidx, jsonl, line, column, error)
                )
            elif (mismatch := self._count_mismatch(item, rows_read, n_ok - n_nokey)) is not None:
                outcomes[path] = _Outcome(False, rows_read, error=mismatch)
                if len(self.items) > 1:
                    # DuckDB 2.0.1 reading many files at once can drop a record cut inside
                    # quotes at the end of a file without reporting it (read alone, the same
                    # file gives the reject): the file is left out of this batch's commit
                    # and loaded again by itself, where a mismatch fails it.
                    self.alone.append(item)
            else:
                outcomes[path] = _Outcome(
                    True,
                    rows_read,
                    rows_loaded=n_ok - n_nokey,
                    rows_rejected=n_nokey + n_notjson + n_bad,
                    first_rowid=first,
                    no_key=n_nokey,
                    not_json=n_notjson,
                )
        return outcomes

    def _count_mismatch(self, item: _Item, rows_read: int, loadable: int) -> str | None:
        """Why the rows DuckDB read do not add up to the probe's own count of the file's
        records, or None. Loading such a file would lose rows silently, so it fails instead."""
        counted = item.probe.records
        if counted is None or rows_read == counted:
            return None
        if self.obj.format == "csv":
            # The probe lets every quote toggle quoting; DuckDB (and Python's csv module) open
            # a quoted field only at its start. A stray quote inside an unquoted value is the
            # one way the two counts can differ on a readable file: recount the exact way.
            exact = count_csv_records(item.file.path)
            if exact == rows_read:
                item.probe = dataclasses.replace(item.probe, records=exact)
                return None
        return (
            f"rows do not add up: DuckDB read {rows_read} data row(s) ({loadable} loadable, "
            f"{rows_read - loadable} rejected) but the file holds {counted} record(s) by an "
            "independent count; the file is not loaded so that no row goes missing"
        )

    def _nothing_loadable(
        self, fidx: int, jsonl: bool, line: int | None, column: str | None, error: str | None
    ) -> str:
        if not jsonl or (line is not None and not self._has_json_rejects(fidx)):
            where = f"line {line}" + (f", column {column}" if column else "")
            return f"every data row is malformed (first at {where}: {error})"
        first = self.con.execute(
            f"select left({_P}raw, 60) from temp.{_P}batch "
            f"where {_FIDX} = ? and {_P}kind <> 'blank' order by rowid limit 1",
            [fidx],
        ).fetchone()
        start = f"; the first line starts {first[0]!r}" if first and first[0] else ""
        return f"not JSON Lines: no line is a JSON object{start}"

    def _has_json_rejects(self, fidx: int) -> bool:
        row = self.con.execute(
            f"select count(*) from temp.{_P}batch where {_FIDX} = ? "
            f"and {_P}kind in ('invalid_json', 'not_object')",
            [fidx],
        ).fetchone()
        return bool(row and row[0])

    # -- quarantine -----------------------------------------------------------------------

    def _flag_quarantine(
        self,
        outcomes: dict[str, _Outcome],
        fails: str | None,
        failing: str | None,
        key_null: str,
        key_text: str,
        row_json: str,
    ) -> None:
        """Find the rows of kept files that fail a contract rule (revops/ingest/quarantine.py)
        into `temp._revops_qflags` (one row per batch row, its failures as a list), and take
        them out of the files' loaded counts. Rejected rows (no key, not JSON) are not checked.

        `fails` is the SQL of the row's failures over `temp._revops_batch` (None: no column
        has a rule), `failing` true exactly when that list is not empty (the filter, so that
        the list, the key and the row's JSON are built for failing rows only), `key_text` the
        row's key as text, `row_json` the whole row as JSON text.
        """
        self.quarantined = False
        if fails is None or failing is None:
            return
        self.con.execute(
            f"""
            create or replace temp table {_P}qflags as
            select rowid as {_P}qrowid, {_FIDX}, {fails} as {_P}fails,
                {key_text} as {_P}key, {row_json} as {_P}row_json
            from (select *, rowid{self._kind_column} from temp.{_P}batch)
            where {_P}kind = 'ok' and not ({key_null}) and {failing}
            """
        )
        counts = self.con.execute(
            f"select {_FIDX}, count(*) from temp.{_P}qflags group by 1"
        ).fetchall()
        for fidx, n in counts:
            outcome = outcomes[self.paths[fidx]]
            if outcome.keep:
                outcome.rows_quarantined = n
                outcome.rows_loaded -= n
                self.quarantined = True

    def _insert_quarantine(
        self, numbered: str, line_known: bool, meta: list[str], quarantined_at: dt.datetime
    ) -> None:
        """One `raw._quarantine` row per (flagged row, failing column) of the kept files."""
        line = f"n.{_P}line" if line_known else "null"
        self.con.execute(
            f"""
            insert into {QUARANTINE_TABLE} (load_id, source, object, raw_table, file_path,
                file_sha256, row_number, line_number, column_name, value, rule, message,
                key_value, row_json, quarantined_at)
            select ?, ?, ?, ?, n.{_P}path, n.{_P}sha, n.{_P}row, {line},
                q.f.column_name, q.f.value, q.f.rule, q.f.message, q.{_P}key, q.{_P}row_json, ?
            from ({numbered}) as n
            join (
                select {_P}qrowid, {_P}key, {_P}row_json, unnest({_P}fails) as f
                from temp.{_P}qflags
            ) as q on n.{_P}rowid = q.{_P}qrowid
            """,
            [*meta, self.obj.raw_table, quarantined_at],
        )

    def _release(self, key_text: str, loaded_at: dt.datetime) -> None:
        """Release the object's quarantined rows that a row loaded by this batch supersedes:
        one with the same key, loaded later (an earlier batch's quarantine, or this batch's
        from an earlier file or row), or a new version of the same file."""
        obj = self.obj
        (open_rows,) = self.con.execute(
            f"select count(*) from {QUARANTINE_TABLE} "
            "where source = ? and object = ? and released_at is null",
            [obj.source, obj.name],
        ).fetchone()
        if not open_rows:
            return
        params = [loaded_at, self.load_id, obj.source, obj.name]
        # A corrected version of the row: the same key, loaded after it. The latest such row
        # per key (by delivery date, file, row) names the release, so the outcome is one.
        position = "(coalesce({d}, date '0001-01-01'), {p}, {r})"
        raw_position = position.format(d="_delivery_date", p="_file_path", r="_row_number")
        quarantined_position = position.format(
            d=f"(select delivery_date from temp.{_P}files where rel_path = q.file_path limit 1)",
            p="q.file_path",
            r="q.row_number",
        )
        self.con.execute(
            f"""
            update {QUARANTINE_TABLE} as q
            set released_at = ?, released_by_file = r.file_path, released_load_id = ?
            from (
                select key_value, max(pos) as pos, arg_max(file_path, pos) as file_path
                from (
                    select {key_text} as key_value, _file_path as file_path,
                        {raw_position} as pos
                    from {raw_table(obj)}
                    where _loaded_at = ? and _load_id = ?
                )
                group by key_value
            ) as r
            where q.source = ? and q.object = ? and q.released_at is null
                and q.key_value = r.key_value
                and (q.quarantined_at < ? or r.pos > {quarantined_position})
            """,
            [loaded_at, self.load_id, loaded_at, self.load_id, obj.source, obj.name, loaded_at],
        )
        # A new version of the file that held the row (the row fixed, or no longer sent).
        self.con.execute(
            f"""
            update {QUARANTINE_TABLE} as q
            set released_at = ?, released_by_file = q.file_path, released_load_id = ?
            where q.source = ? and q.object = ? and q.released_at is null
                and q.quarantined_at < ?
                and exists (
                    select 1 from temp.{_P}files as f
                    where f.keep and f.rel_path = q.file_path and f.sha256 <> q.file_sha256
                )
            """,
            [*params, loaded_at],
        )

    # -- commit ---------------------------------------------------------------------------

    def _commit(
        self,
        outcomes: dict[str, _Outcome],
        columns: Sequence[str],
        value: Callable[[str], str],
        header_lines: int,
        raw_line_sql: str,
        extras: Sequence[str],
        delivered: dict[str, Sequence[str]],
        line_known: bool,
    ) -> list[FileResult]:
        """Append the kept files' rows, rejects and quarantined rows, release the quarantined
        rows this batch supersedes, and write every file's ledger row, in one transaction.

        `value(column)` is the SQL of a data column over `temp._revops_batch`; `header_lines`
        turns a row's position into its line number (`line_known`: exactly, as in JSON Lines);
        `raw_line_sql` gives a row's text for a key reject.
        """
        con, obj = self.con, self.obj
        kept = [i for i, p in enumerate(self.paths) if outcomes[p].keep]
        con.execute(
            f"create or replace temp table {_P}keep as "
            f"select unnest(?::bigint[]) as {_P}kfidx, unnest(?::bigint[]) as {_P}first",
            [kept, [outcomes[self.paths[i]].first_rowid for i in kept]],
        )
        con.execute(
            f"update temp.{_P}files set keep = fidx in (select unnest(?::bigint[]))", [kept]
        )
        # Reader-rejected records leave holes in the row positions: with rejects at ordinals
        # r_1 < r_2 < ..., the k-th row read is record k + max{i : r_i - i < k}.
        con.execute(
            f"""
            create or replace temp table {_P}gaps as
            select fidx, gap, max(i) as skipped
            from (
                select b.fidx,
                    b.ordinal - row_number() over w as gap,
                    row_number() over w as i
                from temp.{_P}bad as b
                join temp.{_P}files as f using (fidx)
                where f.keep
                window w as (partition by b.fidx order by b.ordinal)
            )
            group by all
            """
        )
        has_gaps = con.execute(f"select count(*) from temp.{_P}gaps").fetchone()[0] > 0
        position = f"b.rowid - k.{_P}first + 1"
        row = f"{position} + coalesce(g.skipped, 0)" if has_gaps else position
        gaps = (
            f"asof left join temp.{_P}gaps as g on b.{_FIDX} = g.fidx and {position} > g.gap"
            if has_gaps
            else ""
        )
        numbered = f"""
            select b.*{self._kind_column}, b.rowid as {_P}rowid, {row} as {_P}row,
                {row} + {header_lines} as {_P}line,
                f.rel_path as {_P}path, f.sha256 as {_P}sha, f.delivery_date as {_P}date
            from temp.{_P}batch as b
            join temp.{_P}keep as k on b.{_FIDX} = k.{_P}kfidx
            {gaps}
            join temp.{_P}files as f on b.{_FIDX} = f.fidx
        """
        key_null = " or ".join(f"nullif(trim({value(k)}), '') is null" for k in obj.key)
        missing_key = (
            "concat_ws(', ', "
            + ", ".join(
                f"case when nullif(trim({value(k)}), '') is null then {literal(k)} end"
                for k in obj.key
            )
            + ")"
        )
        cols = ", ".join(ident(c) for c in columns)
        values = ", ".join(f"{value(c)}" for c in columns)
        meta = [self.load_id, obj.source, obj.name]
        not_quarantined = (
            f" and {_P}rowid not in (select {_P}qrowid from temp.{_P}qflags)"
            if self.quarantined
            else ""
        )
        results = self._results(outcomes, delivered)
        con.execute("begin transaction")
        try:
            loaded_at = _next_load_time(con, raw_table(obj))
            if kept:
                add_columns(con, obj, extras)
                # Positions are fixed by now, so the append may write in any order (faster).
                con.execute("set preserve_insertion_order = false")
                con.execute(
                    f"""
                    insert into {raw_table(obj)} ({cols}, _file_path, _file_sha256,
                        _row_number, _delivery_date, _load_id, _loaded_at)
                    select {values}, {_P}path, {_P}sha, {_P}row, {_P}date, ?, ?
                    from ({numbered})
                    where {_P}kind = 'ok' and not ({key_null}){not_quarantined}
                    """,
                    [self.load_id, loaded_at],
                )
                con.execute("set preserve_insertion_order = true")
                if self.quarantined:
                    self._insert_quarantine(numbered, line_known, meta, loaded_at)
                # Records DuckDB's reader refused (bad quoting, field count, line too long).
                con.execute(
                    f"""
                    insert into {REJECTS_TABLE}
                    select ?, ?, ?, f.rel_path, f.sha256, b.line_number, b.ordinal,
                        b.column_name, b.error_type, b.error, b.raw_line, ?
                    from temp.{_P}bad as b
                    join temp.{_P}files as f using (fidx)
                    where f.keep
                    """,
                    [*meta, loaded_at],
                )
                # Rows read fine but without a key: they cannot be told apart downstream.
                if any(o.keep and o.no_key for o in outcomes.values()):
                    con.execute(
                        f"""
                    insert into {REJECTS_TABLE}
                    select ?, ?, ?, {_P}path, {_P}sha, {_P}line, {_P}row, {missing_key},
                        'MISSING KEY', 'missing value in key column(s) ' || {missing_key},
                        {raw_line_sql}, ?
                    from ({numbered})
                    where {_P}kind = 'ok' and ({key_null})
                    """,
                        [*meta, loaded_at],
                    )
                if any(o.keep and o.not_json for o in outcomes.values()):
                    self._insert_json_rejects(numbered, meta, loaded_at)
                self._release(key_sql(obj, ident), loaded_at)
            _insert_ledger(con, obj, self.load_id, results)
            if _before_commit is not None:
                _before_commit(f"{obj.folder}: {len(self.items)} file(s)")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            con.execute("set preserve_insertion_order = true")
            raise
        return results

    def _insert_json_rejects(self, numbered: str, meta: list[str], loaded_at: dt.datetime) -> None:
        """Lines that are not JSON objects, with their text."""
        self.con.execute(
            f"""
                    insert into {REJECTS_TABLE}
                    select ?, ?, ?, {_P}path, {_P}sha, {_P}line, {_P}row, null,
                        upper({_P}kind),
                        case {_P}kind when 'invalid_json' then 'line is not valid JSON'
                            else 'line is valid JSON but not an object' end,
                        {_P}raw, ?
                    from ({numbered})
                    where {_P}kind in ('invalid_json', 'not_object')
                    """,
            [*meta, loaded_at],
        )

    def _results(
        self, outcomes: dict[str, _Outcome], delivered: dict[str, Sequence[str]]
    ) -> list[FileResult]:
        """Ledger rows; `delivered` maps a file to the columns (CSV) or keys (JSON) it carries."""
        finished = _now()
        contract_cols = set(self.obj.column_names)
        results = []
        alone = {id(item) for item in self.alone}
        for path, item in self.by_path.items():
            if id(item) in alone:
                continue
            o = outcomes[path]
            f = item.file
            columns = delivered.get(path, ())
            results.append(
                FileResult(
                    rel_path=f.rel_path,
                    sha256=item.probe.sha256,
                    size=item.probe.size,
                    mtime_ns=f.mtime_ns,
                    delivery_date=f.delivery_date,
                    status=LOADED if o.keep else FAILED,
                    started_at=self.started,
                    finished_at=finished,
                    rows_read=o.rows_read,
                    rows_counted=item.probe.records,
                    rows_loaded=o.rows_loaded if o.keep else 0,
                    rows_rejected=o.rows_rejected if o.keep else 0,
                    rows_quarantined=(
                        None if o.rows_read is None else o.rows_quarantined if o.keep else 0
                    ),
                    error=o.error,
                    is_new_version=o.keep and item.previous_sha is not None,
                    previous_sha256=item.previous_sha,
                    extra_columns=[c for c in columns if c not in contract_cols],
                    missing_columns=[c for c in self.obj.column_names if c not in columns]
                    if columns
                    else [],
                )
            )
        return results

    def _fail_all(self, problem: str, delivered: dict[str, Sequence[str]]) -> list[FileResult]:
        outcomes = {p: _Outcome(False, rows_read=None, error=problem) for p in self.by_path}
        results = self._results(outcomes, delivered)
        _record(self.con, self.obj, self.load_id, results)
        return results

    # -- CSV ------------------------------------------------------------------------------

    def load_csv(self) -> list[FileResult]:
        con, obj = self.con, self.obj
        as_delivered = list(self.items[0].probe.header or ())
        table_cols = table_columns(con, obj)
        # Read under the canonical names (`ID` -> `Id`): the columns, the ledger's extra and
        # missing columns and the raw table all use the contract's spelling.
        header = canonical_header(obj, as_delivered, table_cols)
        # Checked again against the raw table as it is now (an earlier batch of this run may
        # have added columns).
        delivered: dict[str, Sequence[str]] = dict.fromkeys(self.by_path, header)
        problem = check_header(obj, as_delivered, table_cols)
        if problem:
            return self._fail_all(problem, delivered)
        extras = [c for c in header if c not in table_cols]
        _create_files_table(con, self.items)
        _empty_reader_rejects(con)
        spec = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in header) + "}"
        read = f"""
            create or replace temp table {_P}batch as
            select *, file_index as {_FIDX}
            from read_csv(?, columns = {spec}, {_CSV_READER}@REJECTS@)
        """
        paths = [_reader_path(i.data_path) for i in self.items]
        try:
            # Well-formed files (the usual case) read faster without the rejects tables.
            con.execute(read.replace("@REJECTS@", ""), [paths])
        except duckdb.Error:
            # Some record is malformed: read again, keeping DuckDB's rejects of every record.
            rejects = f", {_STORE_REJECTS}"
            con.execute(read.replace("@REJECTS@", rejects), [paths])
            # DuckDB numbers CSV records from the header (line 1), blank lines included.
            _collect_reader_rejects(con, header_lines=1, fmt="csv")
        key_null = " or ".join(f"nullif(trim({ident(k)}), '') is null" for k in obj.key)
        outcomes = self._decide(key_null, jsonl=False)
        # The whole delivered row, each value as its text, for the quarantine.
        row_json = (
            "json_object(" + ", ".join(f"{literal(c)}, {ident(c)}" for c in header) + ")::varchar"
        )
        self._flag_quarantine(
            outcomes,
            failures_sql(obj, header, ident),
            failing_sql(obj, header, ident),
            key_null,
            key_sql(obj, ident),
            row_json,
        )
        # A key reject has no raw text left: re-create its CSV line from the values read.
        raw_line = (
            "concat_ws(',', "
            + ", ".join(
                f"coalesce('\"' || replace({ident(c)}, '\"', '\"\"') || '\"', '')" for c in header
            )
            + ")"
        )
        return self._commit(outcomes, header, ident, 1, raw_line, extras, delivered, False)

    # -- JSON Lines -----------------------------------------------------------------------

    def load_jsonl(self) -> list[FileResult]:
        try:
            return self._load_jsonl(fast=True)
        except (duckdb.Error, _SplitBatch):
            # A malformed or blank line, or invalid UTF-8, somewhere in the batch: read it
            # again line by line, which pins every problem on its line.
            return self._load_jsonl(fast=False)

    def _load_jsonl(self, fast: bool) -> list[FileResult]:
        con, obj = self.con, self.obj
        table_cols = table_columns(con, obj)
        _create_files_table(con, self.items)
        _empty_reader_rejects(con)
        paths = [_reader_path(i.data_path) for i in self.items]
        if fast:
            # Well-formed files (the usual case): DuckDB's JSON reader, which fails on the first
            # bad line, parses each line once and skips blank lines.
            con.execute(
                f"""
                create or replace temp table {_P}src as
                select file_index as {_FIDX}, json as {_P}j, 'ok' as {_P}kind
                from read_json_objects(?, format = 'newline_delimited',
                    maximum_object_size = {MAX_RECORD_BYTES})
                """,
                [paths],
            )
            # `maximum_object_size` is not a strict bound on a line (DuckDB 2.0.1 reads lines
            # of twice its value): the line reader enforces the limit, with rejects.
            (over,) = con.execute(
                f"select count(*) from temp.{_P}src where strlen({_P}j) > {MAX_RECORD_BYTES}"
            ).fetchone()
            if over:
                raise _SplitBatch(f"a line longer than {MAX_RECORD_BYTES} bytes")
        else:
            con.execute(
                f"""
                create or replace temp table {_P}src as
                select file_index as {_FIDX}, line as {_P}j,
                    case when line is null or trim(line, ' \t\r') = '' then 'blank'
                        when not json_valid(line) then 'invalid_json'
                        when json_type(line) <> 'OBJECT' then 'not_object'
                        else 'ok' end as {_P}kind
                from read_csv(?, {_LINE_READER}, {_STORE_REJECTS})
                """,
                [paths],
            )
            _collect_reader_rejects(con, header_lines=0, fmt="jsonl")
        # Every top-level key of every object, so that no delivered field is dropped (objects
        # of one export share a few key lists, so the distinct lists are few).
        key_lists = con.execute(
            f"select {_FIDX}, list(distinct json_keys({_P}j)) from temp.{_P}src "
            f"where {_P}kind = 'ok' group by 1"
        ).fetchall()
        delivered: dict[str, Sequence[str]] = {
            self.paths[fidx]: list(dict.fromkeys(k for keys in lists for k in keys))
            for fidx, lists in key_lists
        }
        seen = dict.fromkeys(k for keys in delivered.values() for k in keys)
        extras = [k for k in seen if k not in table_cols]
        problem = _check_new_keys(extras, table_cols)
        if problem:
            if len(self.items) > 1:
                raise _SplitBatch(problem)
            return self._fail_all(problem, delivered)
        columns = [*table_cols, *extras]
        spec = json.dumps(dict.fromkeys(columns, "VARCHAR"))

        def value(c: str) -> str:
            return f"struct_extract({_P}s, {literal(c)})"

        key_null = " or ".join(f"nullif(trim({value(k)}), '') is null" for k in obj.key)
        # The rule failures of each row (revops/ingest/quarantine.py) are found here, where the
        # line's text is at hand: a quarantined row keeps it.
        # Built only for the rows that fail some rule (`failing_sql`): null for the others.
        fails = failures_sql(obj, columns, value)
        failing = failing_sql(obj, columns, value)
        live = f"{_P}kind = 'ok' and not ({key_null})"
        fails_sql = f"case when {live} and {failing} then {fails} end" if fails else "[]"
        # Nested objects and arrays become their JSON text; the raw line is kept only where a
        # reject or the quarantine needs it.
        con.execute(
            f"""
            create or replace temp table {_P}batch as
            select {_FIDX}, {_P}kind, {_P}s, {_P}fails,
                case when {_P}kind <> 'ok' or ({key_null}) or len({_P}fails) > 0
                    then {_P}j end as {_P}raw
            from (
                select *, {fails_sql} as {_P}fails
                from (
                    select {_FIDX}, {_P}kind, {_P}j,
                        case when {_P}kind = 'ok' then json_transform({_P}j, {literal(spec)}) end
                            as {_P}s
                    from temp.{_P}src
                )
            )
            """
        )
        con.execute(f"drop table temp.{_P}src")
        outcomes = self._decide(key_null, jsonl=True, fast=fast)
        self._check_required(outcomes, value)
        self._flag_quarantine(
            outcomes,
            f"{_P}fails" if fails else None,
            f"{_P}fails is not null" if fails else None,
            key_null,
            key_sql(obj, value),
            f"{_P}raw",
        )
        return self._commit(outcomes, columns, value, 0, f"{_P}raw", extras, delivered, True)

    def _check_required(self, outcomes: dict[str, _Outcome], value: Callable[[str], str]) -> None:
        """Fail files in which no object carries a required key, or any key of a
        `required_any` group (deletion tombstones aside)."""
        required = [c for c in self.obj.required_columns if c not in self.obj.key]
        groups = list(self.obj.required_any)
        kept = [p for p, o in outcomes.items() if o.keep]
        if not (required or groups) or not kept:
            return
        live = "true"
        if "deleted" in self.obj.column_names:
            # Stripe re-sends a deleted object as {"id", "object", "deleted": true} only.
            live = f"coalesce({value('deleted')}, 'false') <> 'true'"
        counts = [f"count({value(c)})" for c in required]
        counts += [f"count(coalesce({', '.join(value(c) for c in g)}))" for g in groups]
        rows = self.con.execute(
            f"select {_FIDX}, count(*), {', '.join(counts)} from temp.{_P}batch "
            f"where {_P}kind = 'ok' and {live} group by 1"
        ).fetchall()
        for fidx, n, *present in rows:
            path = self.paths[fidx]
            if not n or not outcomes[path].keep:
                continue
            found = dict(zip([*required, *map(tuple, groups)], present, strict=True))
            missing = [c for c in required if found[c] == 0]
            empty = [g for g in groups if found[tuple(g)] == 0]
            error = None
            if missing:
                error = (
                    f"missing required column(s) {', '.join(missing)} "
                    "(absent or null in every object of the file)"
                )
            elif empty:
                error = _missing_group(empty[0], "absent or null in every object of the file")
            if error:
                outcomes[path] = _Outcome(False, outcomes[path].rows_read, error=error)


def _insert_ledger(
    con: duckdb.DuckDBPyConnection, obj: ExportObject, load_id: str, results: Sequence[FileResult]
) -> None:
    if not results:
        return
    cols: dict[str, tuple[list, str]] = {
        "file_path": ([r.rel_path for r in results], "varchar"),
        "delivery_date": ([r.delivery_date for r in results], "date"),
        "file_sha256": ([r.sha256 for r in results], "varchar"),
        "file_bytes": ([r.size for r in results], "bigint"),
        "file_mtime_ns": ([r.mtime_ns for r in results], "bigint"),
        "status": ([r.status for r in results], "varchar"),
        "is_new_version": ([r.is_new_version for r in results], "boolean"),
        "previous_sha256": ([r.previous_sha256 for r in results], "varchar"),
        "duplicate_of": ([r.duplicate_of for r in results], "varchar"),
        "rows_read": ([r.rows_read for r in results], "bigint"),
        "rows_counted": ([r.rows_counted for r in results], "bigint"),
        "rows_loaded": ([r.rows_loaded for r in results], "bigint"),
        "rows_rejected": ([r.rows_rejected for r in results], "bigint"),
        "rows_quarantined": ([r.rows_quarantined for r in results], "bigint"),
        "extra_columns": ([r.extra_columns for r in results], "varchar[]"),
        "missing_columns": ([r.missing_columns for r in results], "varchar[]"),
        "error": ([r.error for r in results], "varchar"),
        "started_at": ([r.started_at for r in results], "timestamptz"),
        "finished_at": ([r.finished_at for r in results], "timestamptz"),
    }
    selects = ", ".join(f"unnest(?::{t}[]) as {name}" for name, (_, t) in cols.items())
    names = ", ".join(cols)
    con.execute(
        f"""
        insert into {LEDGER_TABLE} (load_id, source, object, raw_table, {names})
        select ?, ?, ?, ?, {names} from (select {selects})
        """,
        [load_id, obj.source, obj.name, obj.raw_table, *(v for v, _ in cols.values())],
    )


def _record(
    con: duckdb.DuckDBPyConnection, obj: ExportObject, load_id: str, results: Sequence[FileResult]
) -> None:
    """Write ledger rows that carry no data (duplicates, failures) in their own transaction."""
    if not results:
        return
    con.execute("begin transaction")
    try:
        _insert_ledger(con, obj, load_id, results)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _result(
    f: DeliveryFile,
    probe: Probe,
    status: str,
    started: dt.datetime,
    *,
    error: str | None = None,
    duplicate_of: str | None = None,
    rows_read: int | None = None,
    previous_sha: str | None = None,
) -> FileResult:
    return FileResult(
        rel_path=f.rel_path,
        sha256=probe.sha256,
        size=probe.size,
        mtime_ns=f.mtime_ns,
        delivery_date=f.delivery_date,
        status=status,
        started_at=started,
        finished_at=_now(),
        rows_read=rows_read,
        rows_quarantined=None if rows_read is None else 0,
        rows_counted=probe.records,
        error=error,
        duplicate_of=duplicate_of,
        is_new_version=status == LOADED and previous_sha is not None,
        previous_sha256=previous_sha,
    )


def _jailed(f: DeliveryFile, started: dt.datetime) -> FileResult:
    """The failed ledger row of an entry that may not be opened: no sha256 (the empty string,
    which no file's digest equals), the link's own size."""
    return FileResult(
        rel_path=f.rel_path,
        sha256="",
        size=f.size,
        mtime_ns=f.mtime_ns,
        delivery_date=f.delivery_date,
        status=FAILED,
        started_at=started,
        finished_at=_now(),
        error=f.problem,
    )


# ---------------------------------------------------------------------------------------------
# One object


def _batches(items: Sequence[_Item], fmt: str) -> list[list[_Item]]:
    """Group files that one DuckDB read can take (CSV: identical header), within the caps."""
    groups: dict[tuple[str, ...], list[_Item]] = {}
    for item in items:
        key = (item.probe.header or ()) if fmt == "csv" else ()
        groups.setdefault(key, []).append(item)
    batches: list[list[_Item]] = []
    for group in groups.values():
        current: list[_Item] = []
        size = 0
        for item in group:
            full = len(current) >= MAX_BATCH_FILES or size + item.probe.size > MAX_BATCH_BYTES
            if current and full:
                batches.append(current)
                current, size = [], 0
            current.append(item)
            size += item.probe.size
        if current:
            batches.append(current)
    return batches


def _load_batch(
    con: duckdb.DuckDBPyConnection, obj: ExportObject, batch: list[_Item], load_id: str
) -> list[FileResult]:
    """Load a batch; if DuckDB cannot take it whole, load its files one by one."""
    started = _now()
    try:
        loader = _BatchLoader(con, obj, batch, load_id)
        results = loader.load_csv() if obj.format == "csv" else loader.load_jsonl()
    except (duckdb.Error, _SplitBatch) as exc:
        if len(batch) > 1:
            return [r for item in batch for r in _load_batch(con, obj, [item], load_id)]
        item = batch[0]
        message = str(exc) if isinstance(exc, _SplitBatch) else _duckdb_message(exc)
        result = _result(item.file, item.probe, FAILED, started, error=message)
        _record(con, obj, load_id, [result])
        return [result]
    if not loader.alone:
        return results
    # The batch was committed without the files to load again alone: each is its own batch
    # now, and the results keep the batch's order.
    alone = {id(item) for item in loader.alone}
    by_path = {r.rel_path: r for r in results}
    return [
        r
        for item in batch
        for r in (
            _load_batch(con, obj, [item], load_id)
            if id(item) in alone
            else [by_path[item.file.rel_path]]
        )
    ]


def load_object(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    obj: ExportObject,
    load_id: str,
    *,
    rehash: bool = False,
    retry_failed: bool = False,
    min_age_seconds: float = 0.0,
) -> ObjectSummary:
    """Ingest the new files of one object over an open warehouse connection.

    `rehash` reads and hashes every file even when the ledger holds its path, size and mtime;
    `retry_failed` attempts again files whose unchanged bytes failed before; files modified
    less than `min_age_seconds` ago are left for a later run (they may still be being written).
    """
    with ExitStack() as stack:
        return _load_object(
            con, landing, obj, load_id, stack, rehash, retry_failed, min_age_seconds
        )


def _normalised_copy(item: _Item, fmt: str, stack: ExitStack, scratch: list[Path]) -> None:
    """Point `item` at a copy of its file with one line ending (see `normalise_endings`):
    DuckDB's CSV reader takes the line ending of a file's first line for all of it, and with
    mixed endings it fails or, worse, glues records together."""
    if not scratch:
        scratch.append(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="revops-"))))
    target = scratch[0] / f"{item.probe.sha256}.{fmt}"
    normalise_endings(item.file.path, target, fmt)
    item.read_path = target


def _load_object(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    obj: ExportObject,
    load_id: str,
    stack: ExitStack,
    rehash: bool,
    retry_failed: bool,
    min_age_seconds: float,
) -> ObjectSummary:
    clock = time.perf_counter()
    summary = ObjectSummary(obj.source, obj.name, obj.raw_table, optional=obj.optional)
    scratch: list[Path] = []  # the temporary folder of normalised copies, once one is needed
    table_cols = ensure_raw_table(con, obj)
    state = ledger_state(con, obj, retry_failed=retry_failed)
    immediate: list[FileResult] = []
    queued: list[_Item] = []
    first_copy: dict[str, _Item] = {}
    repeats: list[tuple[DeliveryFile, Probe, _Item]] = []
    header_problems: dict[tuple[str, ...], str | None] = {}  # one check per distinct header
    files = scan_object(landing, obj)
    summary.files_present = len(files)
    young = time.time_ns() - int(min_age_seconds * 1e9)
    new: list[DeliveryFile] = []
    for f in files:
        if not rehash and (f.rel_path, f.size, f.mtime_ns) in state.fingerprints:
            summary.files_unchanged += 1
            continue
        if min_age_seconds and f.mtime_ns > young:
            summary.files_settling += 1
            continue
        new.append(f)
    started = _now()
    probes = _probe_all([f for f in new if f.readable], obj.format)
    for f in new:
        if not f.readable:
            # Outside the landing folder, or a symlink loop: recorded, never opened. The ledger
            # keys it by the link's own size and mtime, so the next run skips it until the link
            # changes.
            immediate.append(_jailed(f, started))
            continue
        probe = probes[f.rel_path]
        if isinstance(probe, OSError):
            # Unreadable (permissions, vanished mid-run): there is no sha to record it under, so
            # it is reported without a ledger row and tried again by the next run.
            summary.errors.append(f"{f.rel_path}: cannot read the file: {probe.strerror or probe}")
            continue
        if (f.rel_path, probe.sha256) in state.failed:
            summary.files_unchanged += 1
            continue
        previous = state.current_sha.get(f.rel_path)
        problem = f.problem
        if problem is None and probe.sha256 in state.loaded_sha:
            dup = state.loaded_sha[probe.sha256]
            immediate.append(_result(f, probe, DUPLICATE, started, duplicate_of=dup))
            continue
        if problem is None and probe.sha256 in first_copy:
            repeats.append((f, probe, first_copy[probe.sha256]))
            continue
        problem = problem or probe.problem
        if problem is None and obj.format == "csv":
            header = probe.header or ()
            if header not in header_problems:
                header_problems[header] = check_header(obj, header, table_cols)
            problem = header_problems[header]
        if problem:
            immediate.append(_result(f, probe, FAILED, started, error=problem))
        elif probe.size == 0:
            # JSON Lines without a single line: a valid delivery of nothing.
            immediate.append(_result(f, probe, LOADED, started, rows_read=0, previous_sha=previous))
            state.loaded_sha[probe.sha256] = f.rel_path
        else:
            item = _Item(f, probe, previous)
            if probe.mixed_endings:
                try:
                    _normalised_copy(item, obj.format, stack, scratch)
                except OSError as exc:
                    error = (
                        f"mixed line endings, and no copy with one ending could be written: {exc}"
                    )
                    immediate.append(_result(f, probe, FAILED, started, error=error))
                    continue
            queued.append(item)
            first_copy[probe.sha256] = item
    _record(con, obj, load_id, immediate)
    summary.files.extend(immediate)
    for batch in _batches(queued, obj.format):
        results = _load_batch(con, obj, batch, load_id)
        for item, result in zip(batch, results, strict=True):
            item.result = result
        summary.files.extend(results)
    # The same bytes twice in one run: the later copy is a duplicate of the first if that one
    # loaded, and fails with it otherwise.
    late: list[FileResult] = []
    for f, probe, original in repeats:
        started = _now()
        first = original.result
        if first is not None and first.status == LOADED:
            late.append(_result(f, probe, DUPLICATE, started, duplicate_of=first.rel_path))
        else:
            why = first.error if first is not None else "not loaded"
            error = f"same bytes as {original.file.rel_path}, which failed: {why}"
            late.append(_result(f, probe, FAILED, started, error=error))
    _record(con, obj, load_id, late)
    summary.files.extend(late)
    con.execute(f"drop table if exists temp.{_P}batch")
    summary.raw_rows = con.execute(f"select count(*) from {raw_table(obj)}").fetchone()[0]
    if summary.rows_quarantined:
        summary.quarantine_samples = _quarantine_samples(con, obj, load_id)
    summary.unresolved = _unresolved(con, obj)
    summary.seconds = time.perf_counter() - clock
    return summary


# Files are probed (hashed and counted) by this many threads: hashlib and file reads release
# the GIL, the counting does not, so two threads probe about 1.6-2x as fast as one; DuckDB is
# idle meanwhile (the batches are read after every file of the object is probed).
PROBE_THREADS = max(1, min(4, os.cpu_count() or 1))


def _probe_all(files: Sequence[DeliveryFile], fmt: str) -> dict[str, Probe | OSError]:
    """`probe_file` of each file, by its path relative to the landing folder; an OSError (the
    file cannot be read) is returned in its place, not raised."""

    def probe(f: DeliveryFile) -> Probe | OSError:
        try:
            return probe_file(f.path, fmt)
        except OSError as exc:
            return exc

    if len(files) <= 1 or PROBE_THREADS == 1:
        return {f.rel_path: probe(f) for f in files}
    with ThreadPoolExecutor(PROBE_THREADS) as pool:
        return dict(zip((f.rel_path for f in files), pool.map(probe, files), strict=True))


def _quarantine_samples(
    con: duckdb.DuckDBPyConnection, obj: ExportObject, load_id: str
) -> list[str]:
    """The first cells this run quarantined for `obj`, as `<file> row <n>, column <c>: ...`."""
    rows = con.execute(
        f"""
        select file_path, row_number, column_name, value, rule
        from {QUARANTINE_TABLE}
        where load_id = ? and source = ? and object = ?
        order by file_path, row_number, column_name
        limit {QUARANTINE_SAMPLES}
        """,
        [load_id, obj.source, obj.name],
    ).fetchall()
    return [
        f"{path} row {row}, column {column}: {_shown(value)} ({rule})"
        for path, row, column, value, rule in rows
    ]


def _shown(value: str | None, limit: int = 40) -> str:
    """A delivered value for a message: quoted, cut to `limit` characters."""
    if value is None:
        return "empty"
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _unresolved(con: duckdb.DuckDBPyConnection, obj: ExportObject) -> list[str]:
    """`<file>: <error>` of each open failed file of the object (revops/ingest/ledger.py): its
    latest attempt failed, whether the file is still in the landing folder or not."""
    return [f.message for f in open_failures(con, obj)]


# ---------------------------------------------------------------------------------------------
# Public entry points


def resolve_objects(objects: Iterable[ExportObject | str] | None) -> list[ExportObject]:
    """Contract objects from objects or folder names ("salesforce/Lead"); None means all."""
    if objects is None:
        return list(contract.OBJECTS)
    out = []
    for o in objects:
        if isinstance(o, ExportObject):
            out.append(o)
        else:
            source, _, name = o.partition("/")
            out.append(contract.get(source, name))
    return out


def _check_landing(landing: Path) -> Path:
    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist")
    return landing


def ingest_object(
    landing: Path,
    warehouse: Path,
    obj: ExportObject | str,
    *,
    load_id: str | None = None,
    rehash: bool = False,
    retry_failed: bool = False,
    min_age_seconds: float = 0.0,
    after: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    prepared: bool = False,
) -> ObjectSummary:
    """Ingest one object's new delivery files (`obj` or its folder, e.g. "salesforce/Lead").

    Opens and closes its own warehouse connection, unless given `con` (an open read-write
    connection to `warehouse`, left open: `SharedConnection`); this is what a Dagster asset
    calls. `prepared`: `ensure_warehouse` already ran on `con`. Failed files are reported in
    the summary (`all_errors`), not raised; a DuckDB lock error ("Could not set lock on file")
    is raised, to be retried. `after(con)` is called once the load has committed, on the same
    connection (the asset reads its checks there: opening the warehouse file again costs tens
    of milliseconds per step).
    """
    (export,) = resolve_objects([obj])
    landing = _check_landing(landing)
    own = con is None
    if con is None:
        con = connect(Path(warehouse))
    try:
        if own or not prepared:
            ensure_warehouse(con)
        summary = load_object(
            con,
            landing,
            export,
            load_id or new_load_id(),
            rehash=rehash,
            retry_failed=retry_failed,
            min_age_seconds=min_age_seconds,
        )
        if after is not None:
            after(con)
        return summary
    finally:
        if own:
            con.close()


def ingest_landing(
    landing: Path,
    warehouse: Path,
    objects: Iterable[ExportObject | str] | None = None,
    *,
    rehash: bool = False,
    retry_failed: bool = False,
    min_age_seconds: float = 0.0,
) -> IngestSummary:
    """Ingest every new delivery file of the landing folder (or of `objects`) into the warehouse.

    Idempotent: files the ledger already holds are skipped, so a second run loads nothing. A
    failed file or object does not stop the others; check `summary.ok` and `summary.errors`.
    """
    landing = _check_landing(landing)
    selected = resolve_objects(objects)
    load_id = new_load_id()
    summary = IngestSummary(
        load_id=load_id,
        landing=str(landing),
        warehouse=str(warehouse),
        started_at=_now(),
        unknown_paths=unknown_entries(landing) if objects is None else [],
    )
    con = connect(Path(warehouse))
    try:
        ensure_warehouse(con)
        for obj in selected:
            try:
                summary.objects.append(
                    load_object(
                        con,
                        landing,
                        obj,
                        load_id,
                        rehash=rehash,
                        retry_failed=retry_failed,
                        min_age_seconds=min_age_seconds,
                    )
                )
            except (duckdb.Error, OSError) as exc:
                # Not a file's fault (disk full, a DuckDB bug, an unreadable folder): report it,
                # go on with the rest.
                failed = ObjectSummary(obj.source, obj.name, obj.raw_table, optional=obj.optional)
                why = _duckdb_message(exc) if isinstance(exc, duckdb.Error) else _os_message(exc)
                failed.errors.append(f"{obj.folder}: {why}")
                summary.objects.append(failed)
    finally:
        con.close()
    summary.finished_at = _now()
    return summary


def forget_file(warehouse: Path, rel_path: str) -> dict[str, int]:
    """Remove every trace of one landing file (all its versions) so that the next run loads it
    again: its raw rows, its rejects, its quarantined rows and its ledger rows, in one
    transaction.

    `rel_path` is the path relative to the landing folder, as in `raw._load_ledger.file_path`.
    Returns the number of rows deleted per table. The landing file itself is not touched.
    """
    source, name, *_ = rel_path.split("/")
    obj = contract.get(source, name)
    con = connect(Path(warehouse))
    try:
        ensure_warehouse(con)
        deleted: dict[str, int] = {}
        con.execute("begin transaction")
        try:
            for table, column, extra in (
                (raw_table(obj), "_file_path", ""),
                (REJECTS_TABLE, "file_path", " and source = ? and object = ?"),
                (LEDGER_TABLE, "file_path", " and source = ? and object = ?"),
            ):
                params = [rel_path, *([source, name] if extra else [])]
                (count,) = con.execute(
                    f"select count(*) from {table} where {column} = ?{extra}", params
                ).fetchone()
                con.execute(f"delete from {table} where {column} = ?{extra}", params)
                deleted[table] = count
            # Its quarantined rows go with it; rows it released are open again (until the next
            # corrected version, usually this file loaded again, releases them).
            (count,) = con.execute(
                f"select count(*) from {QUARANTINE_TABLE} "
                "where file_path = ? and source = ? and object = ?",
                [rel_path, source, name],
            ).fetchone()
            con.execute(
                f"delete from {QUARANTINE_TABLE} where file_path = ? and source = ? and object = ?",
                [rel_path, source, name],
            )
            deleted[QUARANTINE_TABLE] = count
            con.execute(
                f"update {QUARANTINE_TABLE} set released_at = null, released_by_file = null, "
                "released_load_id = null where released_by_file = ? and source = ? and object = ?",
                [rel_path, source, name],
            )
            if deleted[raw_table(obj)]:
                con.execute(
                    f"insert into {REMOVALS_TABLE} values (?, ?, ?, ?)",
                    [obj.raw_table, rel_path, deleted[raw_table(obj)], _now()],
                )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        return deleted
    finally:
        con.close()
