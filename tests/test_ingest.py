"""Ingestion of hand-built landing folders: counts reconcile, reruns are no-ops, bad files fail
alone with a clear message, schema drift is kept, and a killed load leaves nothing behind."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from revops import contract
from revops.ingest import (
    SOURCE_OPTIONAL_NOT_DELIVERED,
    forget_file,
    ingest_landing,
    ingest_object,
    loader,
    probe,
    source_status,
)
from revops.ingest import (
    warehouse as warehouse_module,
)
from tests.ingest_support import (
    DAY,
    DAY2,
    csv_bytes,
    csv_records,
    deliver,
    deliver_everything,
    jsonl_bytes,
    jsonl_records,
    ledger,
    obj,
    query,
    rows,
    write,
)

ROOT = Path(__file__).resolve().parent.parent
LEAD = "salesforce/Lead"
CUSTOMERS = "stripe/customers"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def count(warehouse: Path, folder: str, where: str = "true") -> int:
    return query(warehouse, f'select count(*) from raw."{obj(folder).raw_table}" where {where}')[0][
        0
    ]


def records(path: Path) -> int:
    return csv_records(path) if path.suffix == ".csv" else jsonl_records(path)


# ---------------------------------------------------------------------------------------------
# The happy path


def test_every_object_loads_with_lineage_and_counts_reconcile(landing: Path, warehouse: Path):
    deliver_everything(landing, n=3)
    summary = ingest_landing(landing, warehouse)

    assert summary.ok, summary.errors
    assert summary.files_loaded == 2 * len(contract.OBJECTS)
    assert summary.rows_loaded == 6 * len(contract.OBJECTS)
    for row in ledger(warehouse):
        assert row["status"] == "loaded"
        data_rows = records(landing / row["file_path"])
        assert row["rows_read"] == row["rows_loaded"] + row["rows_rejected"] == data_rows
    for export in contract.OBJECTS:
        lineage = query(
            warehouse,
            f"select _file_path, _delivery_date::varchar, _row_number, _file_sha256, _load_id "
            f'from raw."{export.raw_table}" order by _file_path, _row_number',
        )
        assert [(r[0].split("/")[2], r[1], r[2]) for r in lineage] == [
            (DAY, DAY, 1),
            (DAY, DAY, 2),
            (DAY, DAY, 3),
            (DAY2, DAY2, 1),
            (DAY2, DAY2, 2),
            (DAY2, DAY2, 3),
        ]
        assert all(len(r[3]) == 64 and r[4] == summary.load_id for r in lineage)


def test_raw_keeps_values_as_delivered_text(landing: Path, warehouse: Path):
    deliver(landing, "google_ads/campaign_stats")
    deliver(landing, "stripe/invoice_line_items")
    assert ingest_landing(landing, warehouse).ok

    cols = query(
        warehouse,
        "select column_name, data_type from duckdb_columns() "
        "where table_name = 'google_ads__campaign_stats' and column_name[1] <> '_'",
    )
    assert cols[:2] == [("segments.date", "VARCHAR"), ("campaign.id", "VARCHAR")]
    assert {t for _, t in cols} == {"VARCHAR"}
    line = query(
        warehouse,
        'select "price", "period", "discount_amounts", "quantity", "proration" '
        "from raw.stripe__invoice_line_items where _row_number = 2",
    )[0]
    assert line == (
        '{"n":2,"nested":{"ok":true}}',
        '{"n":2,"nested":{"ok":true}}',
        '[{"amount":2,"discount":"di_1"}]',
        "2",
        "false",
    )


# ---------------------------------------------------------------------------------------------
# Idempotency


def test_second_run_reads_nothing_and_changes_nothing(landing: Path, warehouse: Path):
    deliver_everything(landing, n=2)
    ingest_landing(landing, warehouse)
    before = ledger(warehouse)

    again = ingest_landing(landing, warehouse)

    assert again.ok
    assert sum(len(o.files) for o in again.objects) == 0
    assert sum(o.files_unchanged for o in again.objects) == 2 * len(contract.OBJECTS)
    assert ledger(warehouse) == before
    assert count(warehouse, LEAD) == 4


def test_a_clock_stepped_back_still_stamps_new_rows_after_the_old(
    landing: Path, warehouse: Path, monkeypatch
):
    """Incremental staging reads rows loaded after the newest it has seen: a later load must
    carry a later `_loaded_at` even when the clock went back meanwhile."""
    import datetime as dt

    from revops.ingest import loader

    deliver(landing, LEAD, DAY, n=2)
    ingest_landing(landing, warehouse)
    ((first,),) = query(warehouse, f'select max(_loaded_at) from raw."{obj(LEAD).raw_table}"')
    monkeypatch.setattr(loader, "_now", lambda: first - dt.timedelta(hours=1))
    deliver(landing, LEAD, DAY2, n=2, start=3)
    ingest_landing(landing, warehouse)
    later = query(
        warehouse,
        f"select _loaded_at from raw.\"{obj(LEAD).raw_table}\" where _delivery_date = '{DAY2}'",
    )
    assert len(later) == 2
    assert all(loaded_at == first + dt.timedelta(microseconds=1) for (loaded_at,) in later)


def test_same_bytes_under_another_name_are_a_duplicate(landing: Path, warehouse: Path):
    original = deliver(landing, LEAD, DAY, n=3)
    copy_same_run = write(landing, LEAD, DAY, "Lead_resent.csv", original.read_bytes())
    ingest_landing(landing, warehouse)
    copy_later = write(landing, LEAD, DAY2, "resent.csv", original.read_bytes())

    summary = ingest_landing(landing, warehouse)

    assert summary.ok
    assert count(warehouse, LEAD) == 3
    for copy in (copy_same_run, copy_later):
        (row,) = ledger(warehouse, copy.relative_to(landing).as_posix())
        assert row["status"] == "duplicate"
        assert row["duplicate_of"] == f"{LEAD}/{DAY}/Lead.csv"
        assert row["rows_loaded"] == 0


def test_same_file_delivered_again_is_a_duplicate(landing: Path, warehouse: Path):
    path = deliver(landing, CUSTOMERS, n=3)
    ingest_landing(landing, warehouse)
    path.write_bytes(path.read_bytes())  # copied again: same bytes, new mtime
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))

    ingest_landing(landing, warehouse)

    first, second = ledger(warehouse, f"{CUSTOMERS}/{DAY}/customers.jsonl")
    assert (first["status"], second["status"]) == ("loaded", "duplicate")
    assert count(warehouse, CUSTOMERS) == 3


def test_changed_file_with_a_known_name_loads_as_a_new_version(landing: Path, warehouse: Path):
    path = deliver(landing, LEAD, n=2)
    ingest_landing(landing, warehouse)
    old_sha = ledger(warehouse)[0]["file_sha256"]
    deliver(landing, LEAD, n=3)  # the exporter re-ran: same path, one row more

    summary = ingest_landing(landing, warehouse)

    (lead,) = [o for o in summary.objects if o.folder == LEAD]
    assert (lead.files_loaded, lead.new_versions, lead.rows_loaded) == (1, 1, 3)
    first, second = ledger(warehouse, path.relative_to(landing).as_posix())
    assert (first["is_new_version"], second["is_new_version"]) == (False, True)
    assert second["previous_sha256"] == old_sha != second["file_sha256"]
    assert count(warehouse, LEAD) == 5
    assert count(warehouse, LEAD, f"_file_sha256 = '{second['file_sha256']}'") == 3


# ---------------------------------------------------------------------------------------------
# Bad files: each case's documented outcome, with the rest of the landing folder loading

LEAD_COLS = obj(LEAD).column_names
GOOD_LEAD = csv_bytes(LEAD_COLS, rows(LEAD, 3))
CUSTOMER_ROWS = rows(CUSTOMERS, 3)


def _lead_with(extra_line: bytes) -> bytes:
    return GOOD_LEAD + extra_line


def _semicolons() -> bytes:
    return GOOD_LEAD.replace(b",", b";")


def _quoted_semicolons() -> bytes:
    """Every field quoted, semicolons between them (`"Id";"FirstName";...`)."""
    lines = [LEAD_COLS, *([str(r[c]) for c in LEAD_COLS] for r in rows(LEAD, 3))]
    return "".join(";".join(f'"{v}"' for v in line) + "\n" for line in lines).encode()


def _latin1() -> bytes:
    data = rows(LEAD, 3)
    data[1]["LastName"] = "M\u00fcller"
    return csv_bytes(LEAD_COLS, data).decode().encode("latin-1")


def _quoted_newline() -> bytes:
    data = rows(LEAD, 3)
    data[1]["Title"] = "Head of\nGrowth, EMEA"
    return csv_bytes(LEAD_COLS, data)


BAD_CSV = {
    # case: (file bytes, status, rows_loaded, rows_rejected, error fragment)
    "truncated_mid_row": (_lead_with(b"Id-9,Fir"), "loaded", 3, 1, None),
    "truncated_in_quotes": (_lead_with(b'Id-9,"Fir'), "loaded", 3, 1, None),
    "utf8_bom": (b"\xef\xbb\xbf" + GOOD_LEAD, "loaded", 3, 0, None),
    "crlf_line_endings": (csv_bytes(LEAD_COLS, rows(LEAD, 3), "\r\n"), "loaded", 3, 0, None),
    "quoted_newline": (_quoted_newline(), "loaded", 3, 0, None),
    "header_only": (csv_bytes(LEAD_COLS, []), "loaded", 0, 0, None),
    "latin1": (_latin1(), "failed", 0, 0, "not valid UTF-8 (line 3, column LastName)"),
    "semicolons": (_semicolons(), "failed", 0, 0, "the header is semicolon-delimited"),
    "quoted_semicolons": (
        _quoted_semicolons(),
        "failed",
        0,
        0,
        "missing required column(s) Id, LastName, Company, Status, OwnerId, CreatedDate, "
        "LastModifiedDate, IsConverted, IsDeleted (the header is semicolon-delimited; the "
        "contract requires commas)",
    ),
    "empty": (b"", "failed", 0, 0, "empty file (0 bytes)"),
    "binary": (bytes(range(256)) * 4, "failed", 0, 0, "binary content: NUL byte at offset 0"),
    "gzip": (gzip.compress(GOOD_LEAD), "failed", 0, 0, "looks like a gzip archive"),
    "utf16": (GOOD_LEAD.decode().encode("utf-16"), "failed", 0, 0, "encoded as UTF-16"),
    "utf32": (GOOD_LEAD.decode().encode("utf-32"), "failed", 0, 0, "encoded as UTF-32"),
    "duplicate_header_name": (
        b"Id,LastName,Company,Status,OwnerId,CreatedDate,LastModifiedDate,IsConverted,"
        b"IsDeleted,Title,title\n",
        "failed",
        0,
        0,
        "column 'title' appears as 'Title' and 'title' in the header",
    ),
    "empty_header_name": (
        csv_bytes([*LEAD_COLS, ""], rows(LEAD, 1)),
        "failed",
        0,
        0,
        "header column 21 has no name",
    ),
    "reserved_header_name": (
        csv_bytes([*LEAD_COLS, "_file_path"], rows(LEAD, 1)),
        "failed",
        0,
        0,
        "column(s) _file_path use a name reserved for the loader's columns",
    ),
    # Loaded from a copy with LF endings: the short last row is a reject, as in any file.
    "mixed_line_endings": (
        csv_bytes(LEAD_COLS, rows(LEAD, 2), "\r\n") + b"Id-9,a,b\n",
        "loaded",
        2,
        1,
        None,
    ),
    "every_row_malformed": (
        csv_bytes(LEAD_COLS, []) + b"a,b\nc,d\n",
        "failed",
        0,
        0,
        "every data row is malformed (first at line 2, column LastName",
    ),
    "jsonl_in_a_csv_folder": (
        jsonl_bytes(CUSTOMER_ROWS),
        "failed",
        0,
        0,
        "the first line is JSON, not a CSV header",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CSV))
def test_bad_csv_file_gets_its_documented_outcome(case: str, landing: Path, warehouse: Path):
    content, status, loaded, rejected, error = BAD_CSV[case]
    bad = write(landing, LEAD, DAY, "Lead.csv", content)
    good_same_object = deliver(landing, LEAD, DAY2, n=2, start=10)
    deliver(landing, "salesforce/Account", n=2)
    deliver(landing, CUSTOMERS, n=2)

    summary = ingest_landing(landing, warehouse)

    (row,) = ledger(warehouse, bad.relative_to(landing).as_posix())
    assert (row["status"], row["rows_loaded"], row["rows_rejected"]) == (status, loaded, rejected)
    if error:
        assert error in row["error"]
        assert f"{LEAD}/{DAY}/Lead.csv: {row['error']}" in summary.errors
    else:
        assert row["error"] is None
        assert row["rows_read"] == row["rows_counted"] == csv_records(bad) == loaded + rejected
    assert count(warehouse, LEAD, f"_file_path = '{LEAD}/{DAY}/Lead.csv'") == loaded
    # Everything else still loads.
    assert (
        ledger(warehouse, good_same_object.relative_to(landing).as_posix())[0]["status"] == "loaded"
    )
    assert count(warehouse, "salesforce/Account") == 2
    assert count(warehouse, CUSTOMERS) == 2


def test_truncated_and_malformed_rows_are_rejected_with_their_line(landing: Path, warehouse: Path):
    write(landing, LEAD, DAY, "Lead.csv", _lead_with(b'Id-9,"Fir'))
    write(landing, LEAD, DAY2, "Lead.csv", GOOD_LEAD + b"Id-7,a,b,c\n")
    ingest_landing(landing, warehouse)

    rejects = query(
        warehouse,
        "select file_path, line_number, row_number, column_name, error_type, raw_line "
        "from raw._rejects order by file_path",
    )
    assert rejects == [
        (f"{LEAD}/{DAY}/Lead.csv", 5, 4, "FirstName", "UNQUOTED VALUE", 'Id-9,"Fir'),
        (f"{LEAD}/{DAY2}/Lead.csv", 5, 4, "Company", "MISSING COLUMNS", "Id-7,a,b,c"),
    ]


def test_quoted_newline_stays_inside_one_value(landing: Path, warehouse: Path):
    write(landing, LEAD, DAY, "Lead.csv", _quoted_newline())
    ingest_landing(landing, warehouse)
    assert query(warehouse, 'select "Title" from raw.salesforce__lead where _row_number = 2') == [
        ("Head of\nGrowth, EMEA",)
    ]


def test_utf8_bom_does_not_leak_into_the_first_column(landing: Path, warehouse: Path):
    write(landing, LEAD, DAY, "Lead.csv", b"\xef\xbb\xbf" + GOOD_LEAD)
    write(landing, CUSTOMERS, DAY, "customers.jsonl", b"\xef\xbb\xbf" + jsonl_bytes(CUSTOMER_ROWS))
    assert ingest_landing(landing, warehouse).ok
    assert query(warehouse, 'select min("Id") from raw.salesforce__lead') == [("Id-1",)]
    assert query(warehouse, "select min(id) from raw.stripe__customers") == [("id-1",)]


def _customers_with(*lines: str) -> bytes:
    return jsonl_bytes(CUSTOMER_ROWS) + "".join(line + "\n" for line in lines).encode()


BAD_JSONL = {
    "truncated_last_line": (
        jsonl_bytes(CUSTOMER_ROWS) + b'{"id":"id-9","obj',
        "loaded",
        3,
        1,
        None,
    ),
    "line_not_an_object": (_customers_with("[1, 2]"), "loaded", 3, 1, None),
    "blank_lines": (
        b"\n" + jsonl_bytes(CUSTOMER_ROWS).replace(b"}\n", b"}\n  \n"),
        "loaded",
        3,
        0,
        None,
    ),
    "deleted_tombstone": (
        _customers_with('{"id":"id-8","object":"customer","deleted":true}'),
        "loaded",
        4,
        0,
        None,
    ),
    "empty": (b"", "loaded", 0, 0, None),
    "latin1": (
        _customers_with('{"id":"id-9","object":"customer","created":1,"name":"M\u00fcller"}')
        .decode()
        .encode("latin-1"),
        "failed",
        0,
        0,
        "not valid UTF-8 (line 4)",
    ),
    "csv_in_a_jsonl_folder": (
        GOOD_LEAD,
        "failed",
        0,
        0,
        "not JSON Lines: no line is a JSON object; the first line starts 'Id,FirstName",
    ),
    "required_key_missing_everywhere": (
        jsonl_bytes([{k: v for k, v in r.items() if k != "created"} for r in CUSTOMER_ROWS]),
        "failed",
        0,
        0,
        "missing required column(s) created (absent or null in every object of the file)",
    ),
    "binary": (b"\x00\x01\x02" * 100, "failed", 0, 0, "binary content"),
}


@pytest.mark.parametrize("case", list(BAD_JSONL))
def test_bad_jsonl_file_gets_its_documented_outcome(case: str, landing: Path, warehouse: Path):
    content, status, loaded, rejected, error = BAD_JSONL[case]
    bad = write(landing, CUSTOMERS, DAY, "customers.jsonl", content)
    deliver(landing, CUSTOMERS, DAY2, n=2, start=10)
    deliver(landing, LEAD, n=2)

    ingest_landing(landing, warehouse)

    (row,) = ledger(warehouse, bad.relative_to(landing).as_posix())
    assert (row["status"], row["rows_loaded"], row["rows_rejected"]) == (status, loaded, rejected)
    if error:
        assert error in row["error"]
    else:
        assert row["rows_read"] == row["rows_counted"] == jsonl_records(bad) == loaded + rejected
    assert count(warehouse, CUSTOMERS, f"_file_path like '%/{DAY2}/%'") == 2
    assert count(warehouse, LEAD) == 2


def test_jsonl_row_numbers_are_line_numbers(landing: Path, warehouse: Path):
    content = (
        b"\n" + jsonl_bytes(CUSTOMER_ROWS[:2]) + b"not json\n\n" + jsonl_bytes(CUSTOMER_ROWS[2:])
    )
    write(landing, CUSTOMERS, DAY, "customers.jsonl", content)
    ingest_landing(landing, warehouse)

    assert query(warehouse, "select id, _row_number from raw.stripe__customers order by 2") == [
        ("id-1", 2),
        ("id-2", 3),
        ("id-3", 6),
    ]
    assert query(warehouse, "select line_number, error_type, raw_line from raw._rejects") == [
        (4, "INVALID_JSON", "not json")
    ]


# ---------------------------------------------------------------------------------------------
# Every row accounted for: DuckDB's counts against the probe's own count


def accounts(warehouse: Path, path: str) -> tuple:
    (row,) = ledger(warehouse, path)
    keys = ("status", "rows_read", "rows_counted", "rows_loaded", "rows_rejected", "error")
    return tuple(row[k] for k in keys)


def _lead_lines(n: int, start: int = 0) -> list[bytes]:
    """The header and `n` Lead rows as CSV lines without their line endings."""
    lines = csv_bytes(LEAD_COLS, rows(LEAD, n, start=start)).split(b"\n")
    return [line for line in lines if line]


def test_mixed_line_endings_load_every_row(landing: Path, warehouse: Path):
    # Issue 16's file: DuckDB alone read 2 rows of 5 here (1 loaded, 1 rejected), status loaded.
    header, *data = _lead_lines(5)
    content = header + b"\r\n" + data[0] + b"\r\n" + b"".join(line + b"\n" for line in data[1:])
    write(landing, LEAD, DAY, "Lead.csv", content)

    summary = ingest_landing(landing, warehouse)

    assert summary.ok, summary.errors
    assert accounts(warehouse, f"{LEAD}/{DAY}/Lead.csv") == ("loaded", 5, 5, 5, 0, None)
    assert query(warehouse, 'select "Id", _row_number from raw.salesforce__lead order by 2') == [
        (f"Id-{i}", i + 1) for i in range(5)
    ]
    assert query(warehouse, "select count(*) from raw._rejects") == [(0,)]
    assert (landing / LEAD / DAY / "Lead.csv").read_bytes() == content  # never modified


def _endings_case(*parts: bytes) -> bytes:
    return b"".join(parts)


_H, _R1, _R2, _R3 = _lead_lines(3, start=1)
_QUOTED_ROWS = [
    {**rows(LEAD, 1, start=1)[0], "Title": "Head of\r\nGrowth"},
    {**rows(LEAD, 1, start=2)[0], "Title": "VP\nSales"},
    rows(LEAD, 1, start=3)[0],
]


def _quoted(newline: str) -> bytes:
    """Data rows ending in `newline`, with quoted values holding CR LF and LF."""
    return csv_bytes(LEAD_COLS, _QUOTED_ROWS, newline).split(newline.encode(), 1)[1]


ENDINGS = {
    # case: (file bytes, rows read = counted = loaded)
    "lf_only": (_endings_case(_H, b"\n", _R1, b"\n", _R2, b"\n", _R3, b"\n"), 3),
    "crlf_only": (_endings_case(_H, b"\r\n", _R1, b"\r\n", _R2, b"\r\n", _R3, b"\r\n"), 3),
    "cr_only": (_endings_case(_H, b"\r", _R1, b"\r", _R2, b"\r", _R3, b"\r"), 3),
    "lf_first_then_crlf": (_endings_case(_H, b"\n", _R1, b"\r\n", _R2, b"\n", _R3, b"\r\n"), 3),
    "no_final_newline_lf": (_endings_case(_H, b"\n", _R1, b"\n", _R2, b"\n", _R3), 3),
    "no_final_newline_crlf": (_endings_case(_H, b"\r\n", _R1, b"\r\n", _R2, b"\r\n", _R3), 3),
    "no_final_newline_mixed": (_endings_case(_H, b"\r\n", _R1, b"\n", _R2, b"\r\n", _R3), 3),
    "blank_lines_mixed": (
        _endings_case(_H, b"\r\n\r\n", _R1, b"\n\n", _R2, b"\r\n", _R3, b"\n\r\n\n"),
        3,
    ),
    "quoted_line_breaks_lf": (_H + b"\n" + _quoted("\n"), 3),
    "quoted_line_breaks_crlf": (_H + b"\r\n" + _quoted("\r\n"), 3),
    "quoted_line_breaks_mixed": (_H + b"\r\n" + _quoted("\n"), 3),
}


@pytest.mark.parametrize("case", list(ENDINGS))
def test_line_endings_never_lose_a_row(case: str, landing: Path, warehouse: Path):
    content, n = ENDINGS[case]
    path = write(landing, LEAD, DAY, "Lead.csv", content)

    ingest_landing(landing, warehouse)

    assert accounts(warehouse, f"{LEAD}/{DAY}/Lead.csv") == ("loaded", n, n, n, 0, None)
    assert csv_records(path) == n
    ids = query(warehouse, 'select "Id" from raw.salesforce__lead order by _row_number')
    assert ids == [("Id-1",), ("Id-2",), ("Id-3",)]
    if case.startswith("quoted"):
        # A quoted value keeps its line breaks as delivered, normalised copy or not.
        titles = query(warehouse, 'select "Title" from raw.salesforce__lead order by "Id"')
        assert titles == [("Head of\r\nGrowth",), ("VP\nSales",), ("Title-3",)]


def test_jsonl_mixed_line_endings_and_blank_lines(landing: Path, warehouse: Path):
    a, b, c, d = (line.rstrip(b"\n") for line in jsonl_bytes(rows(CUSTOMERS, 4)).splitlines())
    content = b"\n" + a + b"\r\n\r\n" + b + b"\n\n" + c + b"\r\n  \t\r\n" + d  # no final newline
    write(landing, CUSTOMERS, DAY, "customers.jsonl", content)

    ingest_landing(landing, warehouse)

    path = f"{CUSTOMERS}/{DAY}/customers.jsonl"
    assert accounts(warehouse, path) == ("loaded", 4, 4, 4, 0, None)
    assert query(warehouse, "select id, _row_number from raw.stripe__customers order by 2") == [
        ("id-1", 2),
        ("id-2", 4),
        ("id-3", 6),
        ("id-4", 8),
    ]


def test_a_stray_quote_in_an_unquoted_value_still_loads(landing: Path, warehouse: Path):
    # The probe's count lets every quote toggle quoting and disagrees with DuckDB here; the
    # recount with Python's csv module (quotes open a field only at its start) agrees.
    data = rows(LEAD, 3)
    data[0]["Title"] = "STRAY"
    content = csv_bytes(LEAD_COLS, data).replace(b"STRAY", b"5'11\" tall")
    write(landing, LEAD, DAY, "Lead.csv", content)

    ingest_landing(landing, warehouse)

    assert accounts(warehouse, f"{LEAD}/{DAY}/Lead.csv") == ("loaded", 3, 3, 3, 0, None)
    assert query(warehouse, 'select "Title" from raw.salesforce__lead where "Id" = \'Id-1\'') == [
        ("5'11\" tall",)
    ]


def test_a_record_cut_in_quotes_at_the_end_of_a_file_of_a_big_batch_is_a_reject(
    landing: Path, warehouse: Path
):
    # Read with five other files, DuckDB 2.0.1 drops the cut record without a reject (found by
    # the malformed-file corpus); the counts catch it and the file is loaded again alone.
    quoted = GOOD_LEAD.replace(b"Id-1,", b'"Id-1",')
    for day in range(1, 7):
        deliver(landing, LEAD, f"2025-03-0{day}", n=2, start=day * 10)
    cut = write(landing, LEAD, "2025-03-07", "Lead.csv", quoted + b'"Id-9","Fir')

    summary = ingest_landing(landing, warehouse)

    assert summary.errors == []
    path = cut.relative_to(landing).as_posix()
    assert accounts(warehouse, path) == ("loaded", 4, 4, 3, 1, None)
    assert query(
        warehouse, "select file_path, row_number, column_name, error_type from raw._rejects"
    ) == [(path, 4, "FirstName", "UNQUOTED VALUE")]
    assert count(warehouse, LEAD) == 6 * 2 + 3
    assert len(ledger(warehouse)) == 7


def test_counts_that_do_not_add_up_fail_the_file(landing: Path, warehouse: Path, monkeypatch):
    real = loader.probe_file

    def one_record_more(path: Path, fmt: str) -> probe.Probe:
        found = real(path, fmt)
        if path.name != "Lead.csv" or DAY not in str(path):
            return found
        return dataclasses.replace(found, records=found.records + 1)

    monkeypatch.setattr(loader, "probe_file", one_record_more)
    monkeypatch.setattr(loader, "count_csv_records", lambda path: 4)  # the recount agrees
    write(landing, LEAD, DAY, "Lead.csv", GOOD_LEAD)
    deliver(landing, LEAD, DAY2, n=2, start=10)

    summary = ingest_landing(landing, warehouse)

    error = (
        "rows do not add up: DuckDB read 3 data row(s) (3 loadable, 0 rejected) but the file "
        "holds 4 record(s) by an independent count; the file is not loaded so that no row goes "
        "missing"
    )
    assert accounts(warehouse, f"{LEAD}/{DAY}/Lead.csv") == ("failed", 3, 4, 0, 0, error)
    assert f"{LEAD}/{DAY}/Lead.csv: {error}" in summary.errors
    assert count(warehouse, LEAD) == 2  # the other file of the batch loads


def test_reconcile_reports_a_loaded_file_whose_rows_read_differ_from_its_count(
    landing: Path, warehouse: Path
):
    import duckdb

    from revops.ingest.reconcile import reconcile_warehouse

    deliver(landing, LEAD, DAY, n=3)
    deliver(landing, LEAD, DAY2, n=2, start=10)
    ingest_landing(landing, warehouse)
    (clean,) = reconcile_warehouse(warehouse, [obj(LEAD)])
    assert clean.ok and (clean.files, clean.rows_read) == (2, 5)

    con = duckdb.connect(str(warehouse))
    # A ledger that disagrees with itself (the loader fails such a file before it is recorded
    # as loaded; this is what a hand edit or a loader bug would leave), and an older ledger
    # row without a count, which is not a problem.
    con.execute(f"update raw._load_ledger set rows_counted = 4 where file_path like '%/{DAY}/%'")
    con.execute(f"update raw._load_ledger set rows_counted = null where file_path like '%{DAY2}%'")
    (load_id,) = con.execute("select distinct load_id from raw._load_ledger").fetchone()
    con.close()

    (found,) = reconcile_warehouse(warehouse, [obj(LEAD)])
    assert found.problems == [
        f"{LEAD}/{DAY}/Lead.csv (load {load_id}): 3 rows read != 4 records counted in the file"
    ]


# ---------------------------------------------------------------------------------------------
# The reconciliation of a daily increment: only what changed since its last pass is read


def _check(warehouse: Path, folder: str, **kwargs):
    from revops.ingest.reconcile import check_object

    con = warehouse_module.connect(warehouse)
    try:
        warehouse_module.ensure_warehouse(con)
        return check_object(con, obj(folder), **kwargs)
    finally:
        con.close()


def _verdict(result) -> tuple:
    return (
        result.ok,
        result.raw_scan,
        result.rows_scanned,
        result.raw_rows,
        result.files,
        result.rows_loaded,
        result.full_reason,
    )


def test_the_reconciliation_reads_new_rows_carries_an_unchanged_table_and_rereads_after_removals(
    landing: Path, warehouse: Path
):
    import datetime as dt

    deliver(landing, LEAD, DAY, n=3)
    deliver(landing, CUSTOMERS, DAY, n=2)
    ingest_landing(landing, warehouse, objects=[LEAD, CUSTOMERS])
    first = _check(warehouse, LEAD)
    # nothing recorded yet: every row read (3 rows of 1 file)
    assert _verdict(first) == (True, "full", 3, 3, 1, 3, "no passing check recorded")
    # nothing loaded since: not read, the verdict carried (the ledger side is read again)
    carried = _check(warehouse, LEAD)
    assert _verdict(carried) == (True, "carried", 0, 3, 1, 3, "")
    assert carried.full_checked_at == first.full_checked_at
    assert carried.latest_loaded_at == first.latest_loaded_at is not None

    # a second file of 2 rows: only those 2 are read; 3 + 2 = 5 rows in the table
    deliver(landing, LEAD, DAY2, n=2, start=10)
    ingest_landing(landing, warehouse, objects=[LEAD])
    grown = _check(warehouse, LEAD)
    assert _verdict(grown) == (True, "new rows", 2, 5, 2, 5, "")
    (newest,) = query(warehouse, "select max(_loaded_at) from raw.salesforce__lead")[0]
    assert grown.latest_loaded_at == newest > first.latest_loaded_at
    assert _verdict(_check(warehouse, LEAD)) == (True, "carried", 0, 5, 2, 5, "")

    # forget_file removes the 2 rows and records it: every row read again (3 left)
    forget_file(warehouse, f"{LEAD}/{DAY2}/Lead.csv")
    removed = _check(warehouse, LEAD)
    assert _verdict(removed) == (
        True, "full", 3, 3, 1, 3, "rows were removed since the last check (forget_file)"
    )  # fmt: skip
    assert _verdict(_check(warehouse, LEAD)) == (True, "carried", 0, 3, 1, 3, "")

    # the weekly full check, and one asked for
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    assert _verdict(_check(warehouse, LEAD, now=later)) == (
        True, "full", 3, 3, 1, 3, "last full check 7+ day(s) ago"
    )  # fmt: skip
    assert _verdict(_check(warehouse, LEAD, full_recheck=True)) == (
        True, "full", 3, 3, 1, 3, "a full re-check was asked for"
    )  # fmt: skip
    # another object's record is its own
    assert _verdict(_check(warehouse, CUSTOMERS)) == (
        True, "full", 2, 2, 1, 2, "no passing check recorded"
    )  # fmt: skip


def test_a_raw_row_changed_behind_the_ledger_is_found_by_reading_every_row(
    landing: Path, warehouse: Path
):
    import duckdb

    deliver(landing, LEAD, DAY, n=3)
    ingest_landing(landing, warehouse, objects=[LEAD])
    assert _check(warehouse, LEAD).ok
    (load_id,) = query(warehouse, "select distinct load_id from raw._load_ledger")[0]
    path = f"{LEAD}/{DAY}/Lead.csv"

    # a row deleted by hand (no removal recorded): 2 rows, not the 3 verified + 0 new
    con = duckdb.connect(str(warehouse))
    con.execute("delete from raw.salesforce__lead where \"Id\" = 'Id-2'")
    con.close()
    lost = _check(warehouse, LEAD)
    assert _verdict(lost)[:4] == (False, "full", 2, 2)
    assert (
        lost.full_reason
        == 'raw."salesforce__lead" holds 2 rows, not the 3 verified + 0 loaded since'
    )
    assert lost.problems == [
        f'{path} (load {load_id}): the ledger says 3 rows loaded, raw."salesforce__lead" holds 2'
    ]
    # a failing check leaves no record: the next one reads every row again, and fails again
    again = _check(warehouse, LEAD)
    assert (again.ok, again.raw_scan, again.full_reason) == (
        False, "full", "no passing check recorded"
    )  # fmt: skip

    # the row put back (its file and load as before): the check reads every row (the failure
    # left no record) and passes; then a row added by hand, loaded later, with no ledger entry
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into raw.salesforce__lead by name select 'Id-2' as \"Id\", "
        f"'{path}' as _file_path, _file_sha256, 2 as _row_number, _delivery_date, _load_id, "
        "_loaded_at from raw.salesforce__lead limit 1"
    )
    con.close()
    assert _verdict(_check(warehouse, LEAD))[:4] == (True, "full", 3, 3)
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into raw.salesforce__lead by name select 'Id-9' as \"Id\", "
        "'x/Lead.csv' as _file_path, 'sha' as _file_sha256, 1 as _row_number, "
        "'manual' as _load_id, max(_loaded_at) + interval 1 second as _loaded_at "
        "from raw.salesforce__lead"
    )
    con.close()
    extra = _check(warehouse, LEAD)
    assert _verdict(extra)[:4] == (False, "full", 4, 4)
    assert extra.full_reason == "x/Lead.csv (load manual): 1 new rows, not what the ledger says"
    assert extra.problems == [
        'x/Lead.csv (load manual): 1 rows in raw."salesforce__lead" without a loaded ledger entry'
    ]


def test_the_delivery_rhythm_from_the_reconciliations_ledger_rows_is_the_ledgers(
    landing: Path, warehouse: Path
):
    import datetime as dt

    from revops import freshness

    assert freshness.rhythm([]) is None
    deliver(landing, LEAD, DAY, n=1)
    deliver(landing, LEAD, DAY2, n=1, start=2)
    deliver(landing, LEAD, DAY2, n=1, start=3, name="Lead-2.csv")  # a second file that day
    deliver(landing, LEAD, "2025-03-06", n=1, start=4)
    ingest_landing(landing, warehouse, objects=[LEAD])
    # 3 delivery days: 03-01, 03-02 (two files), 03-06; gaps 1 and 4 days
    expected = freshness.Rhythm(dt.date(2025, 3, 6), 3, 4)
    checked = _check(warehouse, LEAD)
    assert freshness.rhythm(checked.delivery_dates) == expected
    con = warehouse_module.connect(warehouse)
    try:
        assert freshness.delivery_rhythm(con, obj=obj(LEAD)) == {LEAD: expected}
    finally:
        con.close()


def test_one_connection_serves_the_steps_of_a_run_and_is_closed_after_the_last(tmp_path: Path):
    shared = warehouse_module.SharedConnection()
    wh = tmp_path / "warehouse.duckdb"
    steps = {"a", "b", "c"}
    con = shared.acquire("run-1", wh, steps)
    shared.release("a")
    assert shared.acquire("run-1", wh, steps) is con and shared.is_open
    # a step that will be retried closes it, and is not done; its retry opens a new one
    shared.release("b", failed=True, retried=True)
    assert not shared.is_open
    shared.acquire("run-1", wh, steps)
    shared.release("b")
    assert shared.is_open and shared.opened == 2
    shared.acquire("run-1", wh, steps)
    shared.release("c", failed=True)  # a step that failed for good: closed, and done
    assert not shared.is_open
    # all three done: the file is free for another process (or a read-only connection)
    query(wh, "select 1")
    # another run starts afresh
    shared.acquire("run-2", wh, {"a"})
    shared.release("a")
    assert not shared.is_open and shared.opened == 3


def test_large_fields_load_whole_and_longer_records_are_rejected_with_a_prefix(
    landing: Path, warehouse: Path
):
    limit = probe.MAX_RECORD_BYTES
    assert limit == 16 * 1024 * 1024 and probe.OVERSIZE_PREFIX_CHARS == 10_000
    data = rows(LEAD, 4)
    data[0]["Title"] = "\u00e9" * 5_000_000  # a 10 MB field (DuckDB's default limit: 2 MB)
    data[1]["Title"] = "x" * limit  # the record is longer than the limit
    # a malformed record of 50 kB: DuckDB's rejects keep 10,000 bytes of it, we keep it whole
    short_row = b"Id-9," + b"z" * 50_000 + b",too,few"
    write(landing, LEAD, DAY, "Lead.csv", csv_bytes(LEAD_COLS, data) + short_row + b"\n")
    customers = rows(CUSTOMERS, 2)
    customers[0]["name"] = "n" * limit
    write(landing, CUSTOMERS, DAY, "customers.jsonl", jsonl_bytes(customers))

    summary = ingest_landing(landing, warehouse, objects=[LEAD, CUSTOMERS])

    assert summary.ok, summary.errors
    assert accounts(warehouse, f"{LEAD}/{DAY}/Lead.csv") == ("loaded", 5, 5, 3, 2, None)
    assert accounts(warehouse, f"{CUSTOMERS}/{DAY}/customers.jsonl") == ("loaded", 2, 2, 1, 1, None)
    titles = 'select "Id", length("Title") from raw.salesforce__lead order by 1'
    assert query(warehouse, titles) == [
        ("Id-1", 5_000_000),
        ("Id-3", 7),
        ("Id-4", 7),
    ]
    rejects = query(
        warehouse,
        "select object, row_number, error_type, error, raw_line from raw._rejects "
        "order by object, row_number",
    )
    over = (
        "longer than the maximum of 16,777,216 bytes (16 MiB; docs/INGESTION.md, "
        '"Large fields"); raw_line holds its first 10,000 characters'
    )
    lead_line = csv_bytes(LEAD_COLS, data[1:2]).split(b"\n")[1].decode()
    customer_line = jsonl_bytes(customers[:1]).decode().rstrip("\n")
    assert rejects == [
        ("Lead", 2, "LINE SIZE OVER MAXIMUM", f"record of {len(lead_line):,} bytes is {over}",
         lead_line[:10_000]),
        ("Lead", 5, "MISSING COLUMNS", "Expected Number of Columns: 20 Found: 4",
         short_row.decode()),
        ("customers", 1, "LINE SIZE OVER MAXIMUM",
         f"record of {len(customer_line):,} bytes is {over}", customer_line[:10_000]),
    ]  # fmt: skip


def test_an_old_ledger_gets_the_rows_counted_column(landing: Path, warehouse: Path):
    import duckdb

    old_ddl = warehouse_module.LEDGER_DDL.replace(",\n    rows_counted bigint", "")
    assert "rows_counted" not in old_ddl
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw")
    con.execute(old_ddl)
    con.close()
    deliver(landing, LEAD)

    assert ingest_landing(landing, warehouse).ok

    assert accounts(warehouse, f"{LEAD}/{DAY}/Lead.csv") == ("loaded", 3, 3, 3, 0, None)


COUNTED = {
    # case: (format, bytes, records counted)
    "csv_quoted_breaks_and_pairs": ("csv", b'h\n"a\r\nb","c""\nd"\n\n\r\nx\ry', 3),
    "csv_unclosed_quote": ("csv", b'h\n1\n"2\n3\n', 2),
    "csv_header_only_no_newline": ("csv", b"h", 0),
    "jsonl_blank_and_mixed": ("jsonl", b"\n {}\r\n\r\n \t\n{}\n{}\r\n\n{}", 4),
}


@pytest.mark.parametrize("case", list(COUNTED))
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_the_probe_counts_records_across_chunk_boundaries(
    case: str, chunk: int, tmp_path: Path, monkeypatch
):
    fmt, content, expected = COUNTED[case]
    counter = probe.CsvRecordCounter() if fmt == "csv" else probe.JsonLinesCounter()
    for i in range(0, len(content), chunk):
        counter.feed(content[i : i + chunk])
    assert counter.finish() - (fmt == "csv") == expected
    path = tmp_path / f"f.{fmt}"
    path.write_bytes(content)
    assert probe.probe_file(path, fmt).records == expected
    normalised = tmp_path / f"n.{fmt}"
    monkeypatch.setattr(probe, "CHUNK", chunk)
    probe.normalise_endings(path, normalised, fmt)
    monkeypatch.undo()
    found = probe.probe_file(normalised, fmt)
    assert (found.records, found.mixed_endings) == (expected, False)


# ---------------------------------------------------------------------------------------------
# Keys and schema drift


def test_rows_without_a_key_value_are_rejected(landing: Path, warehouse: Path):
    data = rows(LEAD, 3)
    data[1]["Id"] = ""
    write(landing, LEAD, DAY, "Lead.csv", csv_bytes(LEAD_COLS, data))
    ads = rows("google_ads/campaign_stats", 2)
    ads[0]["campaign.id"] = None
    write(
        landing,
        "google_ads/campaign_stats",
        DAY,
        "stats.csv",
        csv_bytes(obj("google_ads/campaign_stats").column_names, ads),
    )
    customers = [*CUSTOMER_ROWS, {"object": "customer", "created": 5}]
    write(landing, CUSTOMERS, DAY, "customers.jsonl", jsonl_bytes(customers))

    summary = ingest_landing(landing, warehouse)

    assert summary.ok
    assert count(warehouse, LEAD) == 2
    rejects = query(
        warehouse,
        "select object, line_number, row_number, column_name, error, raw_line from raw._rejects "
        "order by object",
    )
    assert rejects[0][:5] == (
        "Lead",
        3,
        2,
        "Id",
        "missing value in key column(s) Id",
    )
    assert rejects[0][5].startswith(',"FirstName-2",')
    assert rejects[1][:4] == ("campaign_stats", 2, 1, "campaign.id")
    assert rejects[2] == (
        "customers",
        4,
        4,
        "id",
        "missing value in key column(s) id",
        '{"object":"customer","created":5}',
    )
    for row in ledger(warehouse):
        assert row["rows_read"] == row["rows_loaded"] + row["rows_rejected"]


def test_extra_columns_are_kept_and_missing_optional_ones_are_null(landing: Path, warehouse: Path):
    deliver(landing, LEAD, DAY, n=2)
    renamed = ["JobTitle" if c == "Title" else c for c in LEAD_COLS if c != "Country"]
    data = [{**r, "JobTitle": f"title-{i}"} for i, r in enumerate(rows(LEAD, 2, start=5))]
    write(landing, LEAD, DAY2, "Lead.csv", csv_bytes(renamed, data))
    extra_customer = {**CUSTOMER_ROWS[0], "tax_ids": {"data": []}, "preferred_locales": ["de"]}
    write(landing, CUSTOMERS, DAY, "customers.jsonl", jsonl_bytes([extra_customer]))

    summary = ingest_landing(landing, warehouse)

    assert summary.ok, summary.errors
    assert query(
        warehouse,
        'select "Id", "Title", "JobTitle", "Country" from raw.salesforce__lead order by "Id"',
    ) == [
        ("Id-1", "Title-1", None, "Country-1"),
        ("Id-2", "Title-2", None, "Country-2"),
        ("Id-5", None, "title-0", None),
        ("Id-6", None, "title-1", None),
    ]
    (row,) = ledger(warehouse, f"{LEAD}/{DAY2}/Lead.csv")
    assert (row["extra_columns"], row["missing_columns"]) == (["JobTitle"], ["Title", "Country"])
    assert query(warehouse, "select tax_ids, preferred_locales from raw.stripe__customers") == [
        ('{"data":[]}', '["de"]')
    ]
    (row,) = ledger(warehouse, f"{CUSTOMERS}/{DAY}/customers.jsonl")
    assert (row["extra_columns"], row["missing_columns"]) == (["tax_ids", "preferred_locales"], [])


def test_missing_required_column_fails_with_a_clear_message(landing: Path, warehouse: Path):
    columns = [c for c in LEAD_COLS if c != "Status"]
    write(landing, LEAD, DAY, "Lead.csv", csv_bytes(columns, rows(LEAD, 2)))
    deliver(landing, "salesforce/Account")

    summary = ingest_landing(landing, warehouse)

    assert summary.errors == [f"{LEAD}/{DAY}/Lead.csv: missing required column(s) Status"]
    assert count(warehouse, LEAD) == 0
    assert count(warehouse, "salesforce/Account") == 3


def test_a_near_miss_on_a_required_column_name_is_pointed_out(landing: Path, warehouse: Path):
    columns = [" Status" if c == "Status" else c for c in LEAD_COLS]
    write(landing, LEAD, DAY, "Lead.csv", csv_bytes(columns, rows(LEAD, 2)))
    summary = ingest_landing(landing, warehouse, objects=[LEAD])
    assert summary.errors == [
        f"{LEAD}/{DAY}/Lead.csv: missing required column(s) Status (found ' Status': column "
        "names must match exactly but for case, spaces included)"
    ]


# ---------------------------------------------------------------------------------------------
# Batches: many files per DuckDB read, and one bad file cannot take good ones down


def test_one_bad_file_in_a_batch_fails_alone(landing: Path, warehouse: Path, monkeypatch):
    # Without the normalised copy, a file with mixed line endings breaks DuckDB's read of the
    # whole batch: the one way known to do so.
    monkeypatch.setattr(loader, "_normalised_copy", lambda *args: None)
    for day in range(1, 7):
        deliver(landing, LEAD, f"2025-03-0{day}", n=day, start=day * 100)
    write(landing, LEAD, "2025-03-03", "Lead.csv", _latin1())  # rejected inside the batch read
    mixed = csv_bytes(LEAD_COLS, rows(LEAD, 2), "\r\n") + b"x,y\n"
    write(landing, LEAD, "2025-03-05", "Lead.csv", mixed)  # breaks the batch read itself

    summary = ingest_landing(landing, warehouse)

    statuses = {r["file_path"].split("/")[2]: r["status"] for r in ledger(warehouse)}
    assert statuses == {
        "2025-03-01": "loaded",
        "2025-03-02": "loaded",
        "2025-03-03": "failed",
        "2025-03-04": "loaded",
        "2025-03-05": "failed",
        "2025-03-06": "loaded",
    }
    assert len(summary.errors) == 2
    assert count(warehouse, LEAD) == 1 + 2 + 4 + 6


def test_files_load_over_several_batches(landing: Path, warehouse: Path, monkeypatch):
    monkeypatch.setattr(loader, "MAX_BATCH_FILES", 2)
    for day in range(1, 6):
        deliver(landing, LEAD, f"2025-03-0{day}", n=2, start=day * 10)
        deliver(landing, CUSTOMERS, f"2025-03-0{day}", n=2, start=day * 10)
    assert ingest_landing(landing, warehouse).ok
    assert count(warehouse, LEAD) == count(warehouse, CUSTOMERS) == 10
    assert query(warehouse, "select max(_row_number) from raw.salesforce__lead") == [(2,)]


def test_row_numbers_follow_the_file_across_row_groups_and_rejects(landing: Path, warehouse: Path):
    n = 150_000  # more than one DuckDB row group (122,880 rows)
    TS = b"2025-03-01T10:00:00Z"  # a valid value: the rows are not quarantined
    header = (
        b"Id,LastName,Company,Status,OwnerId,CreatedDate,LastModifiedDate,IsConverted,IsDeleted\n"
    )
    body = b"".join(
        b"%d,a\n" % i if i in (7, 123_000) else b"%d,L,C,S,O,%s,%s,false,false\n" % (i, TS, TS)
        for i in range(1, n + 1)
    )
    write(landing, LEAD, DAY, "Lead.csv", header + body)

    summary = ingest_landing(landing, warehouse)

    assert summary.rows_loaded == n - 2 and summary.rows_rejected == 2
    assert query(
        warehouse,
        'select count(*) filter (where "Id"::bigint <> _row_number) from raw.salesforce__lead',
    ) == [(0,)]
    assert query(warehouse, "select row_number from raw._rejects order by 1") == [(7,), (123_000,)]


# ---------------------------------------------------------------------------------------------
# The landing folder's layout


def test_misplaced_hidden_and_unknown_files(landing: Path, warehouse: Path):
    deliver(landing, LEAD)
    write(landing, LEAD, "2025-3-1", "Lead.csv", GOOD_LEAD)  # not a delivery date
    (landing / LEAD / "Lead.csv").write_bytes(GOOD_LEAD)  # no delivery folder at all
    write(landing, LEAD, DAY, ".Lead.csv.part", b"Id,Na")  # an upload in progress
    write(landing, "pipedrive/deals", DAY, "deals.csv", b"id\n1\n")

    summary = ingest_landing(landing, warehouse)

    statuses = {r["file_path"]: (r["status"], r["error"]) for r in ledger(warehouse)}
    assert statuses == {
        f"{LEAD}/{DAY}/Lead.csv": ("loaded", None),
        f"{LEAD}/2025-3-1/Lead.csv": (
            "failed",
            "folder '2025-3-1' is not a delivery date (YYYY-MM-DD)",
        ),
        f"{LEAD}/Lead.csv": (
            "failed",
            f"not in a delivery folder: expected {LEAD}/<YYYY-MM-DD>/",
        ),
    }
    assert summary.unknown_paths == ["pipedrive/"]
    assert "warning: pipedrive/ is not an object of the export contract" in summary.format_table()


def test_file_names_with_glob_characters_load_their_own_rows(landing: Path, warehouse: Path):
    deliver(landing, LEAD, DAY, n=1, start=1, name="Lead1.csv")
    deliver(landing, LEAD, DAY, n=2, start=10, name="Lead*.csv")
    deliver(landing, LEAD, DAY, n=3, start=20, name="Lead?.csv")
    bracket = csv_bytes(LEAD_COLS, rows(LEAD, 4, start=30)) + b"Id-99,cut\n"
    write(landing, LEAD, DAY, "Lead[1].csv", bracket)

    assert ingest_landing(landing, warehouse).ok

    loaded = {r["file_path"].split("/")[-1]: r["rows_loaded"] for r in ledger(warehouse)}
    assert loaded == {"Lead1.csv": 1, "Lead*.csv": 2, "Lead?.csv": 3, "Lead[1].csv": 4}
    by_file = query(
        warehouse,
        "select split_part(_file_path, '/', 4), count(*) from raw.salesforce__lead group by 1",
    )
    assert dict(by_file) == loaded
    assert query(warehouse, "select file_path, line_number from raw._rejects") == [
        (f"{LEAD}/{DAY}/Lead[1].csv", 6)
    ]


def test_files_still_being_written_wait_for_the_next_run(landing: Path, warehouse: Path):
    deliver(landing, LEAD)
    waiting = ingest_landing(landing, warehouse, min_age_seconds=3600)
    assert waiting.files_loaded == 0 and ledger(warehouse) == []
    assert "1 file(s) modified too recently" in waiting.format_table()
    assert ingest_landing(landing, warehouse).files_loaded == 1


def test_user_files_are_never_modified(landing: Path, warehouse: Path):
    deliver_everything(landing, n=2)
    write(landing, LEAD, "2025-03-03", "bad.csv", b"")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in landing.rglob("*") if p.is_file()}
    ingest_landing(landing, warehouse)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in landing.rglob("*") if p.is_file()}
    assert after == before


def test_failed_file_is_not_retried_until_it_changes(landing: Path, warehouse: Path):
    write(landing, LEAD, DAY, "Lead.csv", _latin1())
    assert not ingest_landing(landing, warehouse).ok

    again = ingest_landing(landing, warehouse)
    assert again.ok and len(ledger(warehouse)) == 1  # unchanged bytes: not read again
    (lead,) = [o for o in again.objects if o.folder == LEAD]
    assert len(lead.unresolved) == 1 and "not valid UTF-8" in lead.unresolved[0]

    retried = ingest_landing(landing, warehouse, retry_failed=True)
    assert retried.files_failed == 1 and len(ledger(warehouse)) == 2

    write(landing, LEAD, DAY, "Lead.csv", GOOD_LEAD)  # the fixed export
    fixed = ingest_landing(landing, warehouse)
    assert fixed.ok and fixed.files_loaded == 1
    assert ledger(warehouse)[-1]["is_new_version"] is False  # no earlier version had loaded
    assert count(warehouse, LEAD) == 3
    assert next(o for o in fixed.objects if o.folder == LEAD).unresolved == []


def test_forget_file_makes_the_next_run_load_it_again(landing: Path, warehouse: Path):
    write(landing, LEAD, DAY, "Lead.csv", _lead_with(b"Id-9,Fir"))  # 3 rows and a reject
    deliver(landing, LEAD, DAY2)
    ingest_landing(landing, warehouse)

    deleted = forget_file(warehouse, f"{LEAD}/{DAY}/Lead.csv")

    assert deleted == {
        'raw."salesforce__lead"': 3,
        "raw._rejects": 1,
        "raw._load_ledger": 1,
        "raw._quarantine": 0,
    }
    assert count(warehouse, LEAD) == 3
    again = ingest_landing(landing, warehouse)
    assert (again.files_loaded, again.rows_loaded, again.rows_rejected) == (1, 3, 1)
    assert count(warehouse, LEAD) == 6


# ---------------------------------------------------------------------------------------------
# Crash safety: a load killed inside its transaction leaves no partial file behind

_KILLED_LOAD = """
import pathlib, sys, time
from revops.ingest import ingest_landing, loader

marker = pathlib.Path(sys.argv[3])

def pause(batch):
    marker.write_text(batch)
    time.sleep(120)

loader._before_commit = pause
ingest_landing(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))
"""


def test_a_load_killed_mid_transaction_leaves_nothing_and_the_next_run_loads(
    landing: Path, warehouse: Path, tmp_path: Path
):
    deliver(landing, LEAD, DAY, n=50)
    deliver(landing, LEAD, DAY2, n=50, start=100)
    marker = tmp_path / "in-transaction"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_LOAD, str(landing), str(warehouse), str(marker)], env=env
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the load exited before reaching its transaction"
            assert time.monotonic() < deadline, "the load never reached its transaction"
            time.sleep(0.05)
        assert marker.read_text() == f"{LEAD}: 2 file(s)"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    assert count(warehouse, LEAD) == 0
    assert ledger(warehouse) == []

    summary = ingest_landing(landing, warehouse)

    assert summary.ok and summary.files_loaded == 2
    assert count(warehouse, LEAD) == 100
    assert query(warehouse, "select count(distinct _file_path) from raw.salesforce__lead") == [(2,)]


# ---------------------------------------------------------------------------------------------
# Public API


def test_ingest_object_and_the_summary_rows(landing: Path, warehouse: Path):
    deliver(landing, LEAD, n=2)
    deliver(landing, CUSTOMERS, n=2)

    result = ingest_object(landing, warehouse, LEAD)

    assert (result.folder, result.files_loaded, result.rows_loaded, result.ok) == (LEAD, 1, 2, True)
    assert count(warehouse, CUSTOMERS) == 0
    summary = ingest_landing(landing, warehouse, objects=[LEAD, CUSTOMERS])
    assert summary.to_rows() == [
        {
            "object": LEAD,
            "raw_table": "raw.salesforce__lead",
            "files_new": 0,
            "files_loaded": 0,
            "files_duplicate": 0,
            "files_failed": 0,
            "new_versions": 0,
            "files_unchanged": 1,
            "rows_loaded": 0,
            "rows_rejected": 0,
            "rows_quarantined": 0,
            "seconds": summary.objects[0].to_row()["seconds"],
        },
        {**summary.objects[1].to_row(), "files_loaded": 1, "rows_loaded": 2},
    ]
    assert summary.totals()["files_loaded"] == 1
    assert "stripe/customers" in summary.format_table()


def test_missing_landing_folder_is_an_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"landing folder .* does not exist"):
        ingest_landing(tmp_path / "nope", tmp_path / "w.duckdb")


def test_unknown_object_is_an_error(landing: Path, warehouse: Path):
    with pytest.raises(KeyError, match="no export object salesforce/Leads"):
        ingest_object(landing, warehouse, "salesforce/Leads")


def test_copies_of_the_landing_folder_do_not_reload(landing: Path, warehouse: Path, tmp_path: Path):
    """Restoring the landing folder from a copy changes every mtime but no byte."""
    deliver_everything(landing, n=2)
    ingest_landing(landing, warehouse)
    restored = tmp_path / "restored"
    shutil.copytree(landing, restored, copy_function=shutil.copy)  # new mtimes
    shutil.rmtree(landing)
    restored.rename(landing)
    summary = ingest_landing(landing, warehouse)
    assert summary.files_loaded == 0
    assert summary.files_duplicate == 2 * len(contract.OBJECTS)
    assert count(warehouse, LEAD) == 4


# ---------------------------------------------------------------------------------------------
# Headers and API versions as vendors write them (issue 15)

OPPORTUNITY = "salesforce/Opportunity"
LINE_ITEMS = "stripe/invoice_line_items"
LEDGER_FACTS = (
    "status",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "extra_columns",
    "missing_columns",
    "error",
)


def facts(warehouse: Path, path: Path, landing: Path) -> tuple:
    """The ledger's verdict on one file: status, counts, extra/missing columns, error."""
    (row,) = ledger(warehouse, path.relative_to(landing).as_posix())
    return tuple(row[k] for k in LEDGER_FACTS)


def raw_columns(warehouse: Path, folder: str) -> list[str]:
    return [
        name
        for (name,) in query(
            warehouse,
            "select column_name from duckdb_columns() where schema_name = 'raw' "
            "and table_name = ? and column_name[1] <> '_' order by column_index",
            [obj(folder).raw_table],
        )
    ]


def _recased(columns: Sequence[str], case: Callable[[str], str], data: list[dict]) -> bytes:
    """A CSV file of `data` whose header spells `columns` through `case` (str.upper, ...)."""
    names = [case(c) for c in columns]
    return csv_bytes(
        names, [{n: r.get(c) for n, c in zip(names, columns, strict=True)} for r in data]
    )


def test_upper_case_salesforce_headers_load_into_the_contract_columns(
    landing: Path, warehouse: Path
):
    # Data Loader's all-caps option, a single-currency org (no CurrencyIsoCode), a custom field
    columns = [c for c in obj(OPPORTUNITY).column_names if c != "CurrencyIsoCode"]
    data = [{**r, "My_Field__c": f"x{i}"} for i, r in enumerate(rows(OPPORTUNITY, 2))]
    upper = write(
        landing,
        OPPORTUNITY,
        DAY,
        "Opportunity.csv",
        _recased([*columns, "My_Field__c"], str.upper, data),
    )
    lead = write(landing, LEAD, DAY, "Lead.csv", _recased(LEAD_COLS, str.upper, rows(LEAD, 3)))

    summary = ingest_landing(landing, warehouse, objects=[OPPORTUNITY, LEAD])

    assert summary.ok, summary.errors
    # extra and missing columns are computed on the canonical names; a new extra column keeps
    # its delivered spelling
    assert facts(warehouse, upper, landing) == (
        "loaded",
        2,
        2,
        0,
        ["MY_FIELD__C"],
        ["CurrencyIsoCode"],
        None,
    )
    assert facts(warehouse, lead, landing) == ("loaded", 3, 3, 0, [], [], None)
    assert query(
        warehouse,
        'select "Id", "StageName", "CurrencyIsoCode", "MY_FIELD__C" '
        "from raw.salesforce__opportunity order by _row_number",
    ) == [("Id-1", "StageName-1", None, "x0"), ("Id-2", "StageName-2", None, "x1")]
    # the raw tables keep the contract's spelling: no `ID` or `STAGENAME` column was added
    assert raw_columns(warehouse, OPPORTUNITY) == [*obj(OPPORTUNITY).column_names, "MY_FIELD__C"]
    assert raw_columns(warehouse, LEAD) == LEAD_COLS
    assert query(warehouse, 'select "Id", "Status" from raw.salesforce__lead order by 1') == [
        ("Id-1", "Status-1"),
        ("Id-2", "Status-2"),
        ("Id-3", "Status-3"),
    ]


def test_lower_case_and_mixed_case_headers_share_the_raw_columns(landing: Path, warehouse: Path):
    lower = write(landing, LEAD, DAY, "Lead.csv", _recased(LEAD_COLS, str.lower, rows(LEAD, 2)))
    # an extra column first delivered as `JobTitle`, later as `JOBTITLE`: one raw column
    cols = [*LEAD_COLS, "JobTitle"]
    first = write(
        landing,
        LEAD,
        DAY2,
        "Lead.csv",
        _recased(cols, str, [{**rows(LEAD, 1, 10)[0], "JobTitle": "t"}]),
    )
    second = write(
        landing,
        LEAD,
        "2025-03-03",
        "Lead.csv",
        _recased(cols, str.upper, [{**rows(LEAD, 1, 20)[0], "JobTitle": "T"}]),
    )

    summary = ingest_landing(landing, warehouse, objects=[LEAD])

    assert summary.ok, summary.errors
    assert facts(warehouse, lower, landing) == ("loaded", 2, 2, 0, [], [], None)
    assert facts(warehouse, first, landing) == ("loaded", 1, 1, 0, ["JobTitle"], [], None)
    assert facts(warehouse, second, landing) == ("loaded", 1, 1, 0, ["JobTitle"], [], None)
    assert raw_columns(warehouse, LEAD) == cols
    assert query(
        warehouse, 'select "Id", "LastName", "JobTitle" from raw.salesforce__lead order by "Id"'
    ) == [
        ("Id-1", "LastName-1", None),
        ("Id-10", "LastName-10", "t"),
        ("Id-2", "LastName-2", None),
        ("Id-20", "LastName-20", "T"),
    ]


def test_names_differing_only_by_case_in_one_header_still_fail(landing: Path, warehouse: Path):
    bad = write(landing, LEAD, DAY, "Lead.csv", _recased([*LEAD_COLS, "ID"], str, []))
    summary = ingest_landing(landing, warehouse, objects=[LEAD])
    message = "column 'ID' appears as 'Id' and 'ID' in the header (names are case-insensitive)"
    assert summary.errors == [f"{LEAD}/{DAY}/Lead.csv: {message}"]
    assert facts(warehouse, bad, landing) == ("failed", None, 0, 0, [], [], message)


def test_ad_platform_headers_are_case_insensitive_too(landing: Path, warehouse: Path):
    folder = "google_ads/campaign_stats"
    stats = write(
        landing,
        folder,
        DAY,
        "stats.csv",
        _recased(obj(folder).column_names, str.upper, rows(folder, 2)),
    )
    assert ingest_landing(landing, warehouse, objects=[folder]).ok
    assert facts(warehouse, stats, landing) == ("loaded", 2, 2, 0, [], [], None)
    assert raw_columns(warehouse, folder) == obj(folder).column_names


def _line_2025(i: int) -> dict:
    """An invoice line item in the API 2025-03-31 shape: `pricing` and `parent` in place of
    `type`, `price`, `proration`, `subscription` and `subscription_item`."""
    old = ("type", "price", "proration", "subscription", "subscription_item")
    line = {k: v for k, v in rows(LINE_ITEMS, 1, start=i)[0].items() if k not in old}
    line["pricing"] = {
        "type": "price_details",
        "price_details": {"price": f"price_{i}", "product": "prod_1"},
        "unit_amount_decimal": "1000",
    }
    line["parent"] = {
        "type": "subscription_item_details",
        "subscription_item_details": {
            "subscription": "sub_1",
            "subscription_item": "si_1",
            "proration": False,
        },
    }
    return line


def _line_2024(i: int) -> dict:
    """An invoice line item in the API 2024-06-20 shape (no `pricing`, no `parent`)."""
    return {
        k: v for k, v in rows(LINE_ITEMS, 1, start=i)[0].items() if k not in ("pricing", "parent")
    }


def test_stripe_line_items_load_in_either_api_shape(landing: Path, warehouse: Path):
    new = write(landing, LINE_ITEMS, DAY, "new.jsonl", jsonl_bytes([_line_2025(1), _line_2025(2)]))
    old = write(landing, LINE_ITEMS, DAY, "old.jsonl", jsonl_bytes([_line_2024(3)]))
    # an account that upgraded its API version mid-day: both shapes in one file
    mixed = write(
        landing, LINE_ITEMS, DAY2, "mixed.jsonl", jsonl_bytes([_line_2024(4), _line_2025(5)])
    )

    summary = ingest_landing(landing, warehouse, objects=[LINE_ITEMS])

    assert summary.ok, summary.errors
    assert facts(warehouse, new, landing) == (
        "loaded",
        2,
        2,
        0,
        [],
        ["subscription", "subscription_item", "type", "price", "proration"],
        None,
    )
    assert facts(warehouse, old, landing) == ("loaded", 1, 1, 0, [], ["pricing", "parent"], None)
    assert facts(warehouse, mixed, landing) == ("loaded", 2, 2, 0, [], [], None)
    assert query(
        warehouse,
        "select id, price is not null, pricing is not null, parent is not null "
        "from raw.stripe__invoice_line_items order by id",
    ) == [
        ("id-1", False, True, True),
        ("id-2", False, True, True),
        ("id-3", True, False, False),
        ("id-4", True, False, False),
        ("id-5", False, True, True),
    ]


def test_a_jsonl_file_without_any_column_of_a_required_group_fails(landing: Path, warehouse: Path):
    neither = [
        {k: v for k, v in _line_2024(i).items() if k != "price"} for i in (1, 2)
    ]  # no price, no pricing
    bad = write(landing, LINE_ITEMS, DAY, "bad.jsonl", jsonl_bytes(neither))
    # null counts as absent, as for required columns
    nulls = write(
        landing, LINE_ITEMS, DAY2, "nulls.jsonl", jsonl_bytes([{**_line_2024(3), "price": None}])
    )
    good = write(landing, LINE_ITEMS, DAY2, "good.jsonl", jsonl_bytes([_line_2025(4)]))

    summary = ingest_landing(landing, warehouse, objects=[LINE_ITEMS])

    message = (
        "missing required column group (price | pricing): absent or null in every object of "
        "the file"
    )
    assert summary.errors == [
        f"{LINE_ITEMS}/{DAY}/bad.jsonl: {message}",
        f"{LINE_ITEMS}/{DAY2}/nulls.jsonl: {message}",
    ]
    assert facts(warehouse, bad, landing) == (
        "failed",
        2,
        0,
        0,
        [],
        ["price", "pricing", "parent"],
        message,
    )
    assert facts(warehouse, nulls, landing) == (
        "failed",
        1,
        0,
        0,
        [],
        ["pricing", "parent"],
        message,
    )
    assert facts(warehouse, good, landing)[:4] == ("loaded", 1, 1, 0)
    assert query(warehouse, "select id from raw.stripe__invoice_line_items") == [("id-4",)]


def test_a_csv_header_without_any_column_of_a_required_group_fails(landing: Path, warehouse: Path):
    # No CSV object has a group today: the rule is the same for every format.
    grouped = dataclasses.replace(
        obj(OPPORTUNITY), required_any=(("CurrencyIsoCode", "Probability"),)
    )
    without = [c for c in grouped.column_names if c not in ("CurrencyIsoCode", "Probability")]
    bad = write(landing, OPPORTUNITY, DAY, "a.csv", _recased(without, str, rows(OPPORTUNITY, 1)))
    # the group is matched case-insensitively too
    good = write(
        landing,
        OPPORTUNITY,
        DAY,
        "b.csv",
        _recased([*without, "Probability"], str.upper, rows(OPPORTUNITY, 1, start=2)),
    )

    summary = ingest_landing(landing, warehouse, objects=[grouped])

    message = (
        "missing required column group (CurrencyIsoCode | Probability): the header has none of them"
    )
    assert summary.errors == [f"{OPPORTUNITY}/{DAY}/a.csv: {message}"]
    assert facts(warehouse, bad, landing) == ("failed", None, 0, 0, [], [], message)
    assert facts(warehouse, good, landing) == ("loaded", 1, 1, 0, [], ["CurrencyIsoCode"], None)


def test_line_item_type_price_and_proration_are_no_longer_required():
    line_items = obj(LINE_ITEMS)
    assert not {"type", "price", "proration"} & set(line_items.required_columns)
    assert line_items.required_any == (("price", "pricing"),)


# ---------------------------------------------------------------------------------------------
# Optional objects


OPTIONAL = ["salesforce/OpportunityStage", "salesforce/LeadStatus", "hubspot/campaigns"]


def test_an_optional_object_never_delivered_is_not_a_problem(landing: Path, warehouse: Path):
    assert [o.folder for o in contract.OBJECTS if o.optional] == OPTIONAL
    deliver(landing, LEAD, n=2)

    summary = ingest_landing(landing, warehouse)

    assert summary.ok and summary.errors == []
    by_folder = {o.folder: o for o in summary.objects}
    for folder in OPTIONAL:
        o = by_folder[folder]
        assert (o.optional, o.never_delivered, o.files, o.raw_rows) == (True, True, [], 0)
        # the raw table exists with every contract column, for the dbt sources
        assert raw_columns(warehouse, folder) == obj(folder).column_names
    assert by_folder[LEAD].never_delivered is False
    table = summary.format_table()
    assert (
        "note: optional object(s) not delivered (not a problem): "
        "salesforce/OpportunityStage, salesforce/LeadStatus"
    ) in table
    warned = next(line for line in table.splitlines() if line.startswith("warning: never"))
    assert "salesforce/Account" in warned and "salesforce/LeadStatus" not in warned
    assert LEAD not in warned.split(": ", 1)[1].split(", ")
    # a Salesforce company: the HubSpot objects are not expected (contract.ALTERNATIVE_SOURCES)
    assert "hubspot/" not in warned
    assert "hubspot/contacts" in next(line for line in table.splitlines() if "optional" in line)


def test_the_source_status_of_an_optional_object(landing: Path, warehouse: Path):
    stage, lead = obj("salesforce/OpportunityStage"), obj(LEAD)
    assert source_status(stage, 0, 0) == SOURCE_OPTIONAL_NOT_DELIVERED == "not delivered (optional)"
    assert source_status(lead, 0, 0) == "missing"
    assert [source_status(o, 1, 0) for o in (stage, lead)] == ["ok", "ok"]
    # a delivered optional file that fails is a problem like any other
    assert [source_status(o, 1, 1) for o in (stage, lead)] == ["failed", "failed"]


def test_an_optional_object_delivered_with_its_required_columns_only(
    landing: Path, warehouse: Path
):
    folder = "salesforce/OpportunityStage"
    required = obj(folder).required_columns
    stages = write(
        landing, folder, DAY, "OpportunityStage.csv", _recased(required, str.upper, rows(folder, 3))
    )

    summary = ingest_landing(landing, warehouse, objects=[folder])

    assert summary.ok, summary.errors
    assert required == ["Id", "MasterLabel", "IsClosed", "IsWon"]
    assert facts(warehouse, stages, landing) == (
        "loaded",
        3,
        3,
        0,
        [],
        [
            "ApiName",
            "IsActive",
            "SortOrder",
            "DefaultProbability",
            "ForecastCategoryName",
            "CreatedDate",
            "LastModifiedDate",
        ],
        None,
    )
    assert summary.objects[0].never_delivered is False


def test_files_probed_in_threads_keep_their_outcomes(landing: Path, warehouse: Path, monkeypatch):
    """New files are probed by several threads: each keeps its own probe (counts, sha), an
    unreadable one is reported without a ledger row while the others load, and it loads on
    the next run once it can be read."""
    monkeypatch.setattr(loader, "PROBE_THREADS", 3)
    days = ["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04", "2025-03-05"]
    for i, day in enumerate(days):
        deliver(landing, LEAD, day=day, n=i + 1, start=10 * i + 1)
    locked = f"{LEAD}/2025-03-03/Lead.csv"
    real = loader.probe_file

    def flaky(path: Path, fmt: str):
        if str(path).endswith("2025-03-03/Lead.csv"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, fmt)

    monkeypatch.setattr(loader, "probe_file", flaky)
    summary = ingest_landing(landing, warehouse, [LEAD])
    assert summary.errors == [f"{locked}: cannot read the file: Permission denied"]
    assert {r["file_path"]: (r["rows_counted"], r["rows_loaded"]) for r in ledger(warehouse)} == {
        f"{LEAD}/{day}/Lead.csv": (i + 1, i + 1)
        for i, day in enumerate(days)
        if day != "2025-03-03"
    }

    for row in ledger(warehouse):
        content = (landing / row["file_path"]).read_bytes()
        assert (row["file_sha256"], row["file_bytes"]) == (
            hashlib.sha256(content).hexdigest(),
            len(content),
        )

    monkeypatch.setattr(loader, "probe_file", real)
    again = ingest_landing(landing, warehouse, [LEAD])
    assert again.errors == [] and again.files_loaded == 1
    assert query(warehouse, "select count(*) from raw.salesforce__lead") == [(15,)]
