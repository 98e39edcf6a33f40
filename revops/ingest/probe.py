"""One streaming pass over a delivery file's bytes: its sha256, the file-level problems, and
an independent count of its records (the check that DuckDB's reader lost no row).

This is the only place the loader reads a file in Python, and it does so in 1 MiB chunks
(hashing releases the GIL; the NUL, newline and quote scans are C-speed byte operations). Rows
are parsed by DuckDB, never here: the header of a CSV file is the one record decoded in Python,
and the record count only looks at quotes and line breaks.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20

# The longest record the loader reads, in bytes (a CSV record, quoted line breaks included, or
# a JSON Lines line): DuckDB's `max_line_size` for CSV and for JSON Lines read line by line, and
# `maximum_object_size` for JSON Lines. Salesforce's longest text field (a long or rich text
# area) holds 131,072 characters, at most 512 KiB in UTF-8; 16 MiB is 32 such fields in one
# record, and the JSON reader's own default. A longer record is rejected (not lost): docs/
# INGESTION.md, "Large fields". DuckDB's default, 2,000,000 bytes, rejected a 10 MB field.
MAX_RECORD_BYTES = 16 * 1024 * 1024
# What `raw._rejects.raw_line` keeps of a record longer than MAX_RECORD_BYTES: its first
# characters (every shorter rejected record is kept whole).
OVERSIZE_PREFIX_CHARS = 10_000

_UTF8_BOM = codecs.BOM_UTF8
# Longest first: the UTF-32 LE BOM starts with the UTF-16 LE one.
_OTHER_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_MAGIC = (
    (b"\x1f\x8b", "a gzip archive"),
    (b"PK\x03\x04", "a ZIP archive (or an Excel .xlsx workbook)"),
    (b"PAR1", "a Parquet file"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel/Office document"),
    (b"SQLite format 3\x00", "a SQLite database"),
)


@dataclass(frozen=True)
class Probe:
    """What the bytes of one file say before DuckDB reads it."""

    sha256: str
    size: int
    lines: int  # JSON Lines only: physical lines, the last one counted without a final newline
    header: tuple[str, ...] | None  # CSV only: the first record, BOM stripped
    problem: str | None  # why the file cannot be read at all, or None
    # Data records by our own count (CSV: records after the header, blank lines skipped; JSON
    # Lines: non-blank lines); None when `problem` is set.
    records: int | None = None
    # Record separators by kind (CR LF, LF, lone CR), outside quoted fields.
    endings: tuple[int, int, int] = (0, 0, 0)

    @property
    def mixed_endings(self) -> bool:
        """More than one kind of record separator: DuckDB's CSV reader fixes the line ending
        from the first line, so such a file is loaded from a normalised copy."""
        return sum(1 for n in self.endings if n) > 1


def _binary_kind(head: bytes) -> str | None:
    for bom, name in _OTHER_BOMS:
        if head.startswith(bom):
            return f"encoded as {name}, not UTF-8 (byte order mark {bom.hex(' ')})"
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return f"binary file: looks like {name}, not a text export"
    return None


def _csv_header(head: bytes, complete: bool) -> tuple[tuple[str, ...] | None, str | None]:
    """The first CSV record of `head` (the file's first chunk) or the reason there is none."""
    body = head[len(_UTF8_BOM) :] if head.startswith(_UTF8_BOM) else head
    # The header ends at the first line break: LF, CR LF or (classic Mac) a lone CR.
    ends = [i for i in (body.find(b"\n"), body.find(b"\r")) if i >= 0]
    end = min(ends) if ends else -1
    if end < 0 and not complete:
        return None, f"the header line is longer than {CHUNK} bytes"
    raw = body if end < 0 else body[:end]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        return None, (
            f"not valid UTF-8: byte 0x{bad} at offset {exc.start} of the header line; "
            "the contract requires UTF-8"
        )
    text = text.rstrip("\r")
    if not text.strip():
        return None, "the first line is empty: expected the header row"
    if text.lstrip().startswith(("{", "[")):
        return None, "the first line is JSON, not a CSV header (a JSON Lines file in a CSV folder?)"
    if text.count('"') % 2:
        # A quoted newline inside a header name: rare enough to refuse with a clear message.
        return None, "the header row has an unbalanced quote or a line break inside a name"
    try:
        names = next(csv.reader([text], delimiter=",", quotechar='"', strict=True))
    except csv.Error as exc:
        if _other_delimiter(text):
            # `"Id";"FirstName";...`: read with commas, the whole line is one (malformed)
            # field. Returned as that one name, it gets the same "semicolon-delimited"
            # message from the header check as an unquoted semicolon header.
            return (text,), None
        return None, f"malformed header row: {exc}"
    return tuple(names), None


def _other_delimiter(text: str) -> bool:
    """Whether a header that commas cannot parse is a clean header in another delimiter."""
    for sep in (";", "\t", "|"):
        if sep not in text:
            continue
        try:
            names = next(csv.reader([text], delimiter=sep, quotechar='"', strict=True))
        except csv.Error:
            continue
        if len(names) > 1:
            return True
    return False


# The CSV count keeps only quotes and line breaks of a chunk (a C-speed `translate`), then drops
# adjacent quote pairs, which never change whether a line break is inside quotes.
_CSV_MARKS = bytes(b for b in range(256) if b not in b'"\r\n')
_CSV_EVENT = re.compile(rb'["\r\n]')
_BLANK_LINE = re.compile(rb"\n[\r\n]")
_LONE_CR = re.compile(rb"\r(?!\n)")
_JSONL_BLANK_HINT = re.compile(rb"\n[\r\n \t]")


class CsvRecordCounter:
    """Counts CSV records over a stream of chunks without parsing fields, as RFC 4180 reads
    them: each `"` toggles quoting, and outside quotes CR LF, LF or a lone CR ends a record.
    Empty records (blank lines) are skipped, as DuckDB skips them; a last record without a
    line break counts. It also counts the separators of each kind, for `Probe.endings`."""

    def __init__(self) -> None:
        self.records = 0
        self.crlf = self.lf = self.cr = 0
        self._quoted = False  # inside a quoted field
        self._empty = True  # the current record has no byte yet
        self._carry = b""  # a CR ending a chunk: the next chunk may start with its LF

    def feed(self, chunk: bytes) -> None:
        data = self._carry + chunk if self._carry else chunk
        self._carry = b""
        if data.endswith(b"\r"):
            data, self._carry = data[:-1], b"\r"
        if not data:
            return
        # Regex searches with a literal first byte run at memchr speed, faster than `in`.
        simple = _BLANK_LINE.search(data) is None and (
            b"\r" not in data or _LONE_CR.search(data) is None
        )
        if simple and not (self._empty and data[:1] in (b"\r", b"\n")):
            self._feed_simple(data)
        else:
            self._feed_exact(data)

    def _feed_simple(self, data: bytes) -> None:
        """No lone CR and no blank line: every line break outside quotes ends a non-empty
        record, so counting line breaks per quoted/unquoted stretch is enough."""
        marks = data.translate(None, _CSV_MARKS).replace(b'""', b"") if b'"' in data else data
        quoted = self._quoted
        has_cr = b"\r" in marks
        start = 0
        while True:
            end = marks.find(b'"', start)
            stop = len(marks) if end < 0 else end
            if not quoted:
                lines = marks.count(b"\n", start, stop)
                # Every CR here is followed by its LF (no lone CR, and no quote in between).
                crlf = marks.count(b"\r", start, stop) if has_cr else 0
                self.records += lines
                self.crlf += crlf
                self.lf += lines - crlf
            if end < 0:
                break
            quoted = not quoted
            start = end + 1
        self._quoted = quoted
        self._empty = not quoted and data.endswith(b"\n")

    def _feed_exact(self, data: bytes) -> None:
        """Event by event (quotes and line breaks): for chunks with blank lines or lone CRs."""
        pos = 0
        for match in _CSV_EVENT.finditer(data):
            i = match.start()
            if i > pos:
                self._empty = False
            pos = i + 1
            byte = data[i]
            if byte == 0x22:
                self._quoted = not self._quoted
                self._empty = False
            elif self._quoted:
                continue
            elif byte == 0x0D:
                if data[i + 1 : i + 2] == b"\n":
                    continue  # the LF ends the record
                self.cr += 1
                self._end_record()
            else:
                if i and data[i - 1] == 0x0D:
                    self.crlf += 1
                else:
                    self.lf += 1
                self._end_record()
        if pos < len(data):
            self._empty = False

    def _end_record(self) -> None:
        if not self._empty:
            self.records += 1
        self._empty = True

    def finish(self) -> int:
        """All records of the stream, the header included."""
        if self._carry:
            self._carry = b""
            if self._quoted:
                self._empty = False
            else:
                self.cr += 1
                self._end_record()
        if not self._empty:
            self._end_record()
        return self.records


class JsonLinesCounter:
    """Counts the non-blank lines of a JSON Lines stream (blank: only spaces, tabs and CRs), as
    the loader does; JSON strings cannot hold a raw line break, so quotes do not matter."""

    def __init__(self) -> None:
        self.records = 0
        self.crlf = self.lf = 0
        self._blank = True  # the current line holds only whitespace so far
        self._prev_cr = False

    def feed(self, data: bytes) -> None:
        if not data:
            return
        lines = data.count(b"\n")
        crlf = (data.count(b"\r\n") if b"\r" in data else 0) + (self._prev_cr and data[:1] == b"\n")
        self.crlf += crlf
        self.lf += lines - crlf
        self._prev_cr = data.endswith(b"\r")
        simple = _JSONL_BLANK_HINT.search(data) is None and not (
            self._blank and data[:1] in (b" ", b"\t", b"\r", b"\n")
        )
        if simple:
            # Every line ending here has content (the first one at the latest from data[0]).
            self.records += lines
            self._blank = data.endswith(b"\n")
            return
        parts = data.split(b"\n")
        blank = self._blank
        for part in parts[:-1]:
            if not (blank and not part.strip(b" \t\r")):
                self.records += 1
            blank = True
        self._blank = blank and not parts[-1].strip(b" \t\r")

    def finish(self) -> int:
        if not self._blank:
            self.records += 1
            self._blank = True
        return self.records


def probe_file(path: Path, fmt: str) -> Probe:
    """Hash `path`, find file-level problems and count its records; `fmt` is the contract
    format (csv or jsonl)."""
    digest = hashlib.sha256()
    size = 0
    newlines = 0
    counter = CsvRecordCounter() if fmt == "csv" else JsonLinesCounter()
    last = b""
    head = b""
    problem: str | None = None
    # `path` is a real path (revops.ingest.landing resolved it inside the landing folder):
    # O_NOFOLLOW refuses a symlink put in its place since.
    with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as fh:
        while chunk := fh.read(CHUNK):
            if not head:
                head = chunk
                problem = _binary_kind(chunk)
            digest.update(chunk)
            if problem is None:
                nul = chunk.find(b"\x00")
                if nul >= 0:
                    problem = f"binary content: NUL byte at offset {size + nul}"
            if problem is None:
                # DuckDB drops a UTF-8 BOM: a JSON Lines file of a BOM and a line break holds
                # a blank line, not a record. (The CSV counter's first record is the header.)
                skip = len(_UTF8_BOM) if size == 0 and chunk.startswith(_UTF8_BOM) else 0
                counter.feed(chunk[skip:] if skip and fmt != "csv" else chunk)
            size += len(chunk)
            last = chunk[-1:]
    records: int | None = counter.finish()
    if isinstance(counter, CsvRecordCounter):
        records = max(records - 1, 0)  # the header
        endings = (counter.crlf, counter.lf, counter.cr)
    else:
        newlines = counter.crlf + counter.lf
        endings = (counter.crlf, counter.lf, 0)
    lines = newlines + (1 if size and last != b"\n" else 0)
    header: tuple[str, ...] | None = None
    if problem is None and fmt == "csv":
        if size == 0:
            problem = "empty file (0 bytes): a CSV delivery needs at least its header row"
        else:
            header, problem = _csv_header(head, complete=size <= len(head))
    if problem is not None:
        records, endings = None, (0, 0, 0)
    return Probe(digest.hexdigest(), size, lines, header, problem, records, endings)


def normalise_endings(source: Path, target: Path, fmt: str) -> None:
    """Copy `source` to `target` with every record separator written as LF: for CSV, CR LF and
    lone CR outside quoted fields (a quoted value keeps its line breaks as delivered); for JSON
    Lines, CR LF. Line numbers stay the same."""
    quoted = False
    carry = b""
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            data = carry + chunk if carry else chunk
            carry = b""
            if data.endswith(b"\r"):
                data, carry = data[:-1], b"\r"
            if fmt != "csv":
                dst.write(data.replace(b"\r\n", b"\n"))
                continue
            parts = data.split(b'"')
            for i in range(1 if quoted else 0, len(parts), 2):
                parts[i] = parts[i].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            quoted ^= len(parts) % 2 == 0
            dst.write(b'"'.join(parts))
        if carry:
            dst.write(b"\n" if fmt == "csv" and not quoted else carry)


def read_record(path: Path, offset: int, fmt: str, limit: int) -> str:
    """The text of the record that starts at byte `offset` of `path`, without its line break,
    cut after `limit` bytes: for a reject whose text DuckDB's reader cut short. CSV: up to the
    first CR or LF outside quotes (every quote toggles quoting, as in the probe's count);
    JSON Lines: up to the first LF."""
    out = bytearray()
    quoted = False
    with path.open("rb") as fh:
        fh.seek(offset)
        while len(out) < limit and (chunk := fh.read(min(CHUNK, limit - len(out)))):
            end = -1
            if fmt == "csv":
                for match in _CSV_EVENT.finditer(chunk):
                    if chunk[match.start()] == 0x22:
                        quoted = not quoted
                    elif not quoted:
                        end = match.start()
                        break
            else:
                end = chunk.find(b"\n")
            if end >= 0:
                out += chunk[:end]
                break
            out += chunk
    if fmt != "csv" and out.endswith(b"\r"):
        del out[-1:]
    return out[:limit].decode("utf-8", errors="replace")


def count_csv_records(path: Path) -> int | None:
    """Data records by Python's csv module, in which a quote opens a field only at its start
    (`5'11"` in an unquoted field is text). Asked only when DuckDB's count and the probe's
    (which lets every quote toggle quoting) disagree; None if the module cannot read the file."""
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            return max(sum(1 for row in csv.reader(fh) if row) - 1, 0)
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(limit)
