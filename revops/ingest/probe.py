"""One streaming pass over a delivery file's bytes: its sha256 and the file-level problems.

This is the only place the loader reads a file in Python, and it does so in 1 MiB chunks
(hashing releases the GIL; the NUL and newline scans are memchr-speed). Rows are parsed by
DuckDB, never here: the header of a CSV file is the one record decoded in Python.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20

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
    end = body.find(b"\n")
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
        return None, f"malformed header row: {exc}"
    return tuple(names), None


def probe_file(path: Path, fmt: str) -> Probe:
    """Hash `path` and find file-level problems; `fmt` is the contract format (csv or jsonl)."""
    digest = hashlib.sha256()
    size = 0
    newlines = 0
    count_lines = fmt == "jsonl"
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
            if count_lines:
                newlines += chunk.count(b"\n")
            size += len(chunk)
            last = chunk[-1:]
    lines = newlines + (1 if size and last != b"\n" else 0)
    header: tuple[str, ...] | None = None
    if problem is None and fmt == "csv":
        if size == 0:
            problem = "empty file (0 bytes): a CSV delivery needs at least its header row"
        else:
            header, problem = _csv_header(head, complete=size <= len(head))
    return Probe(digest.hexdigest(), size, lines, header, problem)


def has_mixed_newlines(path: Path) -> bool:
    """True if some lines end in CR LF and others in LF alone. Only asked after a failure:
    counting CR LF costs as much as hashing."""
    crlf = lf = 0
    prev_cr = False
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            lf += chunk.count(b"\n")
            crlf += chunk.count(b"\r\n") + (prev_cr and chunk[:1] == b"\n")
            prev_cr = chunk[-1:] == b"\r"
    return 0 < crlf < lf
