"""Corpus cases of the ingestion step: issue 16's findings and the bad files that already
behaved, each with the outcome docs/INGESTION.md documents."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from revops.ingest.landing import LOOP, OUTSIDE
from revops.ingest.probe import MAX_RECORD_BYTES, OVERSIZE_PREFIX_CHARS
from tests.corpus import (
    COUPONS,
    DAY,
    LEAD,
    Case,
    FileExpect,
    Landing,
    Marker,
    QuarantineExpect,
    RawCell,
    RejectExpect,
    coupon_id,
    file_name,
    jsonl_bytes,
    lead_id,
)

SECRET = "TOPSECRET-corpus-7f3a"
PASSWD_LINE = f"root:x:0:0:{SECRET}:/root:/bin/bash"
SEMICOLONS = "the header is semicolon-delimited; the contract requires commas"


def _day(case: str, suffix: str = ".csv") -> str:
    """The path of the case's file in the shared delivery folder of Lead."""
    return f"{LEAD}/{DAY}/{file_name(case, suffix)}"


def _coupons(case: str, suffix: str = ".jsonl") -> str:
    return f"{COUPONS}/{DAY}/{file_name(case, suffix)}"


def _leads_in(case: str, *numbers: int, in_raw: bool, published: bool | None) -> tuple:
    return tuple(Marker(lead_id(case, i), in_raw, published) for i in numbers)


def _symlink(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=target.is_dir())


# ---------------------------------------------------------------------------------------------
# Issue 16's findings


def _mixed_line_endings(land: Landing) -> None:
    header, *rows = land.lead_csv(land.leads("mixed_line_endings", 5)).splitlines()
    content = header + b"\r\n" + rows[0] + b"\r\n" + b"".join(r + b"\n" for r in rows[1:])
    land.write(_day("mixed_line_endings"), content)


def _mixed_line_endings_jsonl(land: Landing) -> None:
    a, b, c = (
        jsonl_bytes([land.coupon("mixed_line_endings_jsonl", i)]).rstrip(b"\n") for i in (1, 2, 3)
    )
    land.write(_coupons("mixed_line_endings_jsonl"), a + b"\r\n" + b + b"\n" + c + b"\n")


def _secret_leads(land: Landing, case: str) -> bytes:
    return land.lead_csv(land.leads(case, 2, LastName=SECRET))


def _symlink_file_outside(land: Landing) -> None:
    case = "symlink_file_outside"
    target = land.outside / f"{case}.csv"
    target.write_bytes(_secret_leads(land, case))
    # through `..`, as a link made relative to the landing folder's own location would be
    relative = os.path.relpath(target, (land.root / _day(case)).parent)
    _symlink(land.root / _day(case), Path(relative))


SYMLINKED_DAY = "2019-01-01"


def _symlink_folder_outside(land: Landing) -> None:
    case = "symlink_folder_outside"
    folder = land.outside / case
    folder.mkdir()
    (folder / "Lead.csv").write_bytes(_secret_leads(land, case))
    _symlink(land.root / LEAD / SYMLINKED_DAY, folder)


def _symlink_to_a_secret(land: Landing) -> None:
    target = land.outside / "passwd"
    target.write_text(PASSWD_LINE + "\n", encoding="utf-8")
    _symlink(land.root / _day("symlink_to_a_secret"), target)


def _jsonl_symlink_to_a_secret(land: Landing) -> None:
    target = land.outside / "secret-lines"
    lines = [PASSWD_LINE, *(f"line {i} of {SECRET}" for i in range(2, 6))]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _symlink(land.root / _coupons("jsonl_symlink_to_a_secret"), target)


def _object_folder_symlink(land: Landing) -> None:
    # LeadStatus is optional and the generated company never delivers it: linking its whole
    # folder out of the landing folder takes nothing from the other cases.
    folder = land.outside / "LeadStatus" / DAY
    folder.mkdir(parents=True)
    (folder / "LeadStatus.csv").write_text(f"Id,MasterLabel,IsConverted\n1,{SECRET},false\n")
    _symlink(land.root / "salesforce" / "LeadStatus", land.outside / "LeadStatus")


def _delivered_object_folder_symlink(land: Landing) -> None:
    folder = land.outside / "Contact" / DAY
    folder.mkdir(parents=True)
    (folder / "Contact.csv").write_text(f"Id,LastName\n1,{SECRET}\n", encoding="utf-8")
    _symlink(land.root / "salesforce" / "Contact", land.outside / "Contact")


LOOP_FOLDER = f"{LEAD}/{file_name('symlink_loop', '')}"


def _symlink_loop(land: Landing) -> None:
    _symlink(land.root / LOOP_FOLDER / "loop", Path(".."))
    a, b = land.root / _day("symlink_loop", "-a.csv"), land.root / _day("symlink_loop", "-b.csv")
    _symlink(a, Path(b.name))
    _symlink(b, Path(a.name))


def _bad_cells(land: Landing) -> None:
    case = "bad_cells"
    rows = [
        land.lead(case, 1, NumberOfEmployees="fifty"),
        land.lead(case, 2, CreatedDate="yesterday"),
        land.lead(case, 3),
    ]
    land.write(_day(case), land.lead_csv(rows))


def _semicolon_file(land: Landing) -> None:
    case = "failed_semicolon_file"
    text = land.lead_csv(land.leads(case, 2)).decode()
    land.write(_day(case), text.replace('"', "").replace(",", ";").encode())


def _quoted_semicolon_header(land: Landing) -> None:
    case = "quoted_semicolon_header"
    text = land.lead_csv(land.leads(case, 2)).decode()
    # every field quoted (empty ones too), semicolons between: `"Id";"FirstName";...`
    lines = ['"' + line.replace('"', "").replace(",", '";"') + '"' for line in text.splitlines()]
    land.write(_day(case), ("\n".join(lines) + "\n").encode())


UNKNOWN = (
    f"pipedrive/deals/{DAY}/{file_name('unknown_folders', '.csv')}",
    f"salesforce/Leads/{DAY}/{file_name('unknown_folders', '.csv')}",
)


def _unknown_folders(land: Landing) -> None:
    for path in UNKNOWN:
        land.write(path, land.lead_csv(land.leads("unknown_folders", 2)))


BIG = "\u00e9" * 5_000_000  # 10 MB of UTF-8


def _field_of_10_mb(land: Landing) -> None:
    case = "field_of_10_mb"
    land.write(_day(case), land.lead_csv([land.lead(case, 1, Title=BIG), land.lead(case, 2)]))


def _record_over_the_limit(land: Landing) -> None:
    case = "record_over_the_limit"
    rows = [land.lead(case, 1, Title="x" * MAX_RECORD_BYTES), land.lead(case, 2)]
    land.write(_day(case), land.lead_csv(rows))


LONG_FIELD = "z" * 50_000


def _long_malformed_record(land: Landing) -> None:
    case = "long_malformed_record"
    good = land.lead_csv([land.lead(case, 1)])
    short = f'"{lead_id(case, 2)}","{LONG_FIELD}","too few"\n'.encode()
    land.write(_day(case), good + short)


# ---------------------------------------------------------------------------------------------
# Bad files that behaved well before issue 16


def _truncated_mid_row(land: Landing) -> None:
    case = "truncated_mid_row"
    land.write(
        _day(case), land.lead_csv(land.leads(case, 2)) + f'"{lead_id(case, 3)}",Fir'.encode()
    )


def _truncated_in_quotes(land: Landing) -> None:
    case = "truncated_in_quotes"
    land.write(
        _day(case), land.lead_csv(land.leads(case, 2)) + f'"{lead_id(case, 3)}","Fir'.encode()
    )


def _utf8_bom(land: Landing) -> None:
    land.write(_day("utf8_bom"), b"\xef\xbb\xbf" + land.lead_csv(land.leads("utf8_bom", 2)))


def _crlf(land: Landing) -> None:
    land.write(_day("crlf"), land.lead_csv(land.leads("crlf", 2), newline="\r\n"))


def _latin1(land: Landing) -> None:
    case = "latin1"
    rows = [land.lead(case, 1), land.lead(case, 2, LastName="M\u00fcller")]
    land.write(_day(case), land.lead_csv(rows).decode().encode("latin-1"))


def _gzip(land: Landing) -> None:
    land.write(_day("gzip", ".csv.gz"), gzip.compress(land.lead_csv(land.leads("gzip", 2))))


def _json_errors(land: Landing) -> None:
    case = "json_errors"
    good = [jsonl_bytes([land.coupon(case, i)]) for i in (1, 2)]
    content = good[0] + b'{"id":"cut","obj\n' + b"[1, 2]\n" + b"  \n" + good[1]
    land.write(_coupons(case), content)


ODD_NAMES = ("[1]*?.csv", " with spaces.csv", "-\u00fcn\u00efc\u00f8d\u00e9-\u540d\u524d.csv")
# What the unescaped glob `corpus-odd_file_names[1]*?.csv` would also read
GLOB_DECOY = "1ab.csv"


def _odd_file_names(land: Landing) -> None:
    # file i holds i rows, with ids of their own: 1; 2, 3; 4, 5, 6; 7 to 10
    case = "odd_file_names"
    for i, suffix in enumerate((*ODD_NAMES, GLOB_DECOY), start=1):
        first = 1 + i * (i - 1) // 2
        rows = [land.lead(case, n) for n in range(first, first + i)]
        land.write(_day(case, suffix), land.lead_csv(rows))


SQL_COLUMN = 'x"; drop table raw._load_ledger; --'
SQL_VALUE = "'); drop table raw.salesforce__lead; --"


def _sql_in_column_names(land: Landing) -> None:
    case = "sql_in_column_names"
    rows = [{**r, SQL_COLUMN: "1", "LastName": SQL_VALUE} for r in land.leads(case, 2)]
    land.write(_day(case), land.lead_csv(rows, columns=[*land.lead_columns, SQL_COLUMN]))


HTML_NAME = '<script>alert("corpus")</script>'
HTML_COMPANY = "<b>Acme</b> &amp; Co <img src=x onerror=alert(1)>"


def _html_in_names(land: Landing) -> None:
    case = "html_in_names"
    land.write(
        _day(case), land.lead_csv(land.leads(case, 2, LastName=HTML_NAME, Company=HTML_COMPANY))
    )


def _empty_file(land: Landing) -> None:
    land.write(_day("empty_file"), b"")


def _header_only(land: Landing) -> None:
    land.write(_day("header_only"), land.lead_csv([]))


def _duplicate_file(land: Landing) -> None:
    content = land.lead_csv(land.leads("duplicate_file", 2))
    land.write(_day("duplicate_file", "-a.csv"), content)
    land.write(_day("duplicate_file", "-b.csv"), content)


EXTRA = "Corpus_Extra__c"


def _extra_and_missing_columns(land: Landing) -> None:
    case = "extra_and_missing_columns"
    columns = [c for c in land.lead_columns if c != "Country"] + [EXTRA]
    rows = [{**r, EXTRA: "extra"} for r in land.leads(case, 2)]
    land.write(_day(case), land.lead_csv(rows, columns=columns))


def _missing_required_column(land: Landing) -> None:
    case = "missing_required_column"
    columns = [c for c in land.lead_columns if c != "Status"]
    land.write(_day(case), land.lead_csv(land.leads(case, 2), columns=columns))


CASES = [
    Case(
        "mixed_line_endings",
        "Finding 1: CR LF then LF lost 3 of 5 rows under status loaded; now every row loads.",
        _mixed_line_endings,
        files=(FileExpect(_day("mixed_line_endings"), "loaded", 5, 5, 0, 5),),
        markers=_leads_in("mixed_line_endings", 1, 2, 3, 4, 5, in_raw=True, published=True),
    ),
    Case(
        "mixed_line_endings_jsonl",
        "Finding 1 for JSON Lines. Coupons are in no mart by key: publishing is not asserted.",
        _mixed_line_endings_jsonl,
        files=(FileExpect(_coupons("mixed_line_endings_jsonl"), "loaded", 3, 3, 0, 3),),
        markers=tuple(
            Marker(
                coupon_id("mixed_line_endings_jsonl", i), True, None, "stripe__coupons", "id", None
            )
            for i in (1, 2, 3)
        ),
    ),
    Case(
        "symlink_file_outside",
        "Finding 2: a file symlink (through `..`) to a valid Lead file outside the landing "
        "folder loaded its rows; now it fails unopened.",
        _symlink_file_outside,
        files=(FileExpect(_day("symlink_file_outside"), "failed", error=OUTSIDE),),
        markers=_leads_in("symlink_file_outside", 1, 2, in_raw=False, published=False),
        shown=(f"{_day('symlink_file_outside')}: {OUTSIDE}",),
        never_shown=(SECRET,),
    ),
    Case(
        "symlink_folder_outside",
        "Finding 2: a delivery folder symlinked out of the landing folder was scanned.",
        _symlink_folder_outside,
        files=(FileExpect(f"{LEAD}/{SYMLINKED_DAY}", "failed", error=OUTSIDE),),
        markers=_leads_in("symlink_folder_outside", 1, 2, in_raw=False, published=False),
        shown=(f"{LEAD}/{SYMLINKED_DAY}: {OUTSIDE}",),
        never_shown=(SECRET,),
    ),
    Case(
        "symlink_to_a_secret",
        "Finding 2: a symlink to the password file failed quoting the target's first line.",
        _symlink_to_a_secret,
        files=(FileExpect(_day("symlink_to_a_secret"), "failed", error=OUTSIDE),),
        shown=(f"{_day('symlink_to_a_secret')}: {OUTSIDE}",),
        never_shown=(SECRET, "root:x:0:0"),
    ),
    Case(
        "jsonl_symlink_to_a_secret",
        "Finding 2: a JSON Lines symlink stored every line of its target in raw_line.",
        _jsonl_symlink_to_a_secret,
        files=(FileExpect(_coupons("jsonl_symlink_to_a_secret"), "failed", error=OUTSIDE),),
        shown=(f"{_coupons('jsonl_symlink_to_a_secret')}: {OUTSIDE}",),
        never_shown=(SECRET, "root:x:0:0"),
    ),
    Case(
        "object_folder_symlink",
        "Finding 2: an object folder (the optional LeadStatus) symlinked out of the landing "
        "folder.",
        _object_folder_symlink,
        files=(FileExpect("salesforce/LeadStatus", "failed", error=OUTSIDE),),
        shown=(f"salesforce/LeadStatus: {OUTSIDE}",),
        never_shown=(SECRET,),
    ),
    Case(
        "delivered_object_folder_symlink",
        "Finding 2: the folder of an object the company delivers (Contact) symlinked out of the "
        "landing folder. Isolated: in the shared landing it would hide the company's Contacts.",
        _delivered_object_folder_symlink,
        files=(FileExpect("salesforce/Contact", "failed", error=OUTSIDE),),
        shown=(f"salesforce/Contact: {OUTSIDE}",),
        never_shown=(SECRET,),
        isolated=True,
    ),
    Case(
        "symlink_loop",
        "Finding 3: a loop made the Lead step retry for 5 minutes and skip the good Lead files; "
        "now each looping entry fails once and every other file of the object loads (the "
        "company's own Lead files are checked by test_every_other_file_loaded).",
        _symlink_loop,
        files=(
            FileExpect(f"{LOOP_FOLDER}/loop", "failed", error=LOOP),
            FileExpect(_day("symlink_loop", "-a.csv"), "failed", error=LOOP),
            FileExpect(_day("symlink_loop", "-b.csv"), "failed", error=LOOP),
        ),
        shown=(
            f"{LOOP_FOLDER}/loop: {LOOP}",
            f"{_day('symlink_loop', '-a.csv')}: {LOOP}",
            f"{_day('symlink_loop', '-b.csv')}: {LOOP}",
        ),
    ),
    Case(
        "bad_cells",
        "Finding 4: text in NumberOfEmployees and `yesterday` in CreatedDate used to load as "
        "text and then block every publish at staging's cast tests. Row-level quarantine: the "
        "two rows go to raw._quarantine (file, row, column, value, rule), stay out of raw and "
        "the marts, a warning check names them, and the third row publishes.",
        _bad_cells,
        files=(FileExpect(_day("bad_cells"), "loaded", 3, 1, 0, 3, rows_quarantined=2),),
        quarantined=(
            QuarantineExpect(
                _day("bad_cells"), 1, "NumberOfEmployees", "cast:integer", value="fifty"
            ),
            QuarantineExpect(
                _day("bad_cells"), 2, "CreatedDate", "cast:timestamp", value="yesterday"
            ),
        ),
        markers=(
            *_leads_in("bad_cells", 1, 2, in_raw=False, published=False),
            *_leads_in("bad_cells", 3, in_raw=True, published=True),
        ),
        shown=("assert_no_open_quarantined_rows", _day("bad_cells")),
    ),
    Case(
        "failed_semicolon_file",
        "Finding 5: a semicolon-delimited file fails with the documented message; the refresh "
        "publishes without it and says so (the failed-file policy; the summary's counts equal "
        "the ledger: tests/test_failed_file_policy.py).",
        _semicolon_file,
        files=(
            FileExpect(_day("failed_semicolon_file"), "failed", rows_counted=2, error=SEMICOLONS),
        ),
        markers=_leads_in("failed_semicolon_file", 1, 2, in_raw=False, published=False),
        shown=(
            f"{_day('failed_semicolon_file')}: missing required column(s) Id,",
            "published without",
        ),
    ),
    Case(
        "quoted_semicolon_header",
        'Finding 8: `"Id";"FirstName";...` gave a parser message, not the documented one.',
        _quoted_semicolon_header,
        files=(
            FileExpect(
                _day("quoted_semicolon_header"),
                "failed",
                rows_counted=2,
                error="missing required column(s) Id, LastName, Company, Status, OwnerId, "
                f"CreatedDate, LastModifiedDate, IsConverted, IsDeleted ({SEMICOLONS})",
            ),
        ),
        markers=_leads_in("quoted_semicolon_header", 1, 2, in_raw=False, published=False),
        shown=(f"{_day('quoted_semicolon_header')}: missing required column(s) Id,",),
    ),
    Case(
        "unknown_folders",
        "Finding 6: folders the contract does not know are not loaded, have no ledger row, and "
        "`revops refresh` warns about them as `revops ingest` does.",
        _unknown_folders,
        not_in_ledger=UNKNOWN,
        shown=(
            "pipedrive/ is not an object of the export contract (not loaded)",
            "salesforce/Leads/ is not an object of the export contract (not loaded)",
        ),
        markers=_leads_in("unknown_folders", 1, 2, in_raw=False, published=False),
    ),
    Case(
        "field_of_10_mb",
        "Finding 8: a 10 MB field was rejected over DuckDB's 2,000,000-byte default; records "
        "up to 16 MiB now load whole.",
        _field_of_10_mb,
        files=(FileExpect(_day("field_of_10_mb"), "loaded", 2, 2, 0, 2),),
        raw_cells=(RawCell(lead_id("field_of_10_mb", 1), "Title", BIG),),
        markers=_leads_in("field_of_10_mb", 1, 2, in_raw=True, published=True),
    ),
    Case(
        "record_over_the_limit",
        "A record longer than 16 MiB is rejected, not lost, with an error naming the limit "
        "and a 10,000-character prefix as raw_line.",
        _record_over_the_limit,
        files=(FileExpect(_day("record_over_the_limit"), "loaded", 2, 1, 1, 2),),
        rejects=(
            RejectExpect(
                _day("record_over_the_limit"),
                "LINE SIZE OVER MAXIMUM",
                None,
                1,
                error=f"longer than the maximum of {MAX_RECORD_BYTES:,} bytes (16 MiB;",
                raw_line_starts=f'"{lead_id("record_over_the_limit", 1)}",',
                raw_line_length=OVERSIZE_PREFIX_CHARS,
            ),
        ),
        markers=(
            *_leads_in("record_over_the_limit", 1, in_raw=False, published=False),
            *_leads_in("record_over_the_limit", 2, in_raw=True, published=True),
        ),
    ),
    Case(
        "long_malformed_record",
        "Finding 8: a reject's raw_line was cut to 10,000 characters; now it is whole.",
        _long_malformed_record,
        files=(FileExpect(_day("long_malformed_record"), "loaded", 2, 1, 1, 2),),
        rejects=(
            RejectExpect(
                _day("long_malformed_record"),
                "MISSING COLUMNS",
                "Email",
                2,
                raw_line=f'"{lead_id("long_malformed_record", 2)}","{LONG_FIELD}","too few"',
            ),
        ),
        markers=(
            *_leads_in("long_malformed_record", 1, in_raw=True, published=True),
            *_leads_in("long_malformed_record", 2, in_raw=False, published=False),
        ),
    ),
    Case(
        "truncated_mid_row",
        "The last line cut mid-row: that row is a reject, the others load.",
        _truncated_mid_row,
        files=(FileExpect(_day("truncated_mid_row"), "loaded", 3, 2, 1, 3),),
        rejects=(
            RejectExpect(
                _day("truncated_mid_row"),
                "MISSING COLUMNS",
                "LastName",
                3,
                raw_line=f'"{lead_id("truncated_mid_row", 3)}",Fir',
            ),
        ),
        markers=(
            *_leads_in("truncated_mid_row", 1, 2, in_raw=True, published=True),
            *_leads_in("truncated_mid_row", 3, in_raw=False, published=False),
        ),
    ),
    Case(
        "truncated_in_quotes",
        "The last line cut inside quotes: that row is a reject, the others load.",
        _truncated_in_quotes,
        files=(FileExpect(_day("truncated_in_quotes"), "loaded", 3, 2, 1, 3),),
        rejects=(RejectExpect(_day("truncated_in_quotes"), "UNQUOTED VALUE", "FirstName", 3),),
        markers=(
            *_leads_in("truncated_in_quotes", 1, 2, in_raw=True, published=True),
            *_leads_in("truncated_in_quotes", 3, in_raw=False, published=False),
        ),
    ),
    Case(
        "utf8_bom",
        "A UTF-8 byte-order mark does not leak into the first column (`Id` holds the keys).",
        _utf8_bom,
        files=(FileExpect(_day("utf8_bom"), "loaded", 2, 2, 0, 2),),
        markers=_leads_in("utf8_bom", 1, 2, in_raw=True, published=True),
    ),
    Case(
        "crlf",
        "CR LF line endings throughout.",
        _crlf,
        files=(FileExpect(_day("crlf"), "loaded", 2, 2, 0, 2),),
        markers=_leads_in("crlf", 1, 2, in_raw=True, published=True),
    ),
    Case(
        "latin1",
        "Latin-1 bytes fail the whole file, naming the first bad line and column.",
        _latin1,
        files=(
            FileExpect(
                _day("latin1"),
                "failed",
                rows_read=2,
                rows_counted=2,
                error="not valid UTF-8 (line 3, column LastName): the contract requires UTF-8",
            ),
        ),
        markers=_leads_in("latin1", 1, 2, in_raw=False, published=False),
        shown=(f"{_day('latin1')}: not valid UTF-8 (line 3, column LastName)",),
    ),
    Case(
        "gzip",
        "A gzip archive is refused as binary.",
        _gzip,
        files=(FileExpect(_day("gzip", ".csv.gz"), "failed", error="looks like a gzip archive"),),
        markers=_leads_in("gzip", 1, 2, in_raw=False, published=False),
        shown=(f"{_day('gzip', '.csv.gz')}: binary file: looks like a gzip archive",),
    ),
    Case(
        "json_errors",
        "JSON Lines: a line that is not JSON and one that is not an object are rejects at their "
        "line; a blank line is skipped; the good lines load.",
        _json_errors,
        files=(FileExpect(_coupons("json_errors"), "loaded", 4, 2, 2, 4),),
        rejects=(
            RejectExpect(
                _coupons("json_errors"), "INVALID_JSON", None, 2, raw_line='{"id":"cut","obj'
            ),
            RejectExpect(_coupons("json_errors"), "NOT_OBJECT", None, 3, raw_line="[1, 2]"),
        ),
        markers=tuple(
            Marker(coupon_id("json_errors", i), True, None, "stripe__coupons", "id", None)
            for i in (1, 2)
        ),
    ),
    Case(
        "odd_file_names",
        "Glob characters, spaces and non-ASCII in file names: each file loads its own rows "
        "(the decoy is what the unescaped glob would also have read).",
        _odd_file_names,
        files=tuple(
            FileExpect(_day("odd_file_names", suffix), "loaded", i, i, 0, i)
            for i, suffix in enumerate((*ODD_NAMES, GLOB_DECOY), start=1)
        ),
        markers=_leads_in("odd_file_names", *range(1, 11), in_raw=True, published=True),
    ),
    Case(
        "sql_in_column_names",
        "SQL in a column name and in a value is text: a new raw column and a value.",
        _sql_in_column_names,
        files=(
            FileExpect(
                _day("sql_in_column_names"), "loaded", 2, 2, 0, 2, extra_columns=(SQL_COLUMN,)
            ),
        ),
        raw_cells=(
            RawCell(lead_id("sql_in_column_names", 1), SQL_COLUMN, "1"),
            RawCell(lead_id("sql_in_column_names", 1), "LastName", SQL_VALUE),
        ),
        markers=_leads_in("sql_in_column_names", 1, 2, in_raw=True, published=True),
    ),
    Case(
        "html_in_names",
        "HTML in names is text, kept as delivered.",
        _html_in_names,
        files=(FileExpect(_day("html_in_names"), "loaded", 2, 2, 0, 2),),
        raw_cells=(
            RawCell(lead_id("html_in_names", 1), "LastName", HTML_NAME),
            RawCell(lead_id("html_in_names", 2), "Company", HTML_COMPANY),
        ),
        markers=_leads_in("html_in_names", 1, 2, in_raw=True, published=True),
    ),
    Case(
        "empty_file",
        "A 0-byte CSV file fails: a CSV delivery needs at least its header row.",
        _empty_file,
        files=(FileExpect(_day("empty_file"), "failed", error="empty file (0 bytes)"),),
        shown=(f"{_day('empty_file')}: empty file (0 bytes)",),
    ),
    Case(
        "header_only",
        "A header without rows is a delivery of nothing.",
        _header_only,
        files=(FileExpect(_day("header_only"), "loaded", 0, 0, 0, 0),),
    ),
    Case(
        "duplicate_file",
        "The same bytes under a second name in one run: the second is a duplicate of the first.",
        _duplicate_file,
        files=(
            FileExpect(_day("duplicate_file", "-a.csv"), "loaded", 2, 2, 0, 2),
            FileExpect(
                _day("duplicate_file", "-b.csv"),
                "duplicate",
                rows_counted=2,
                duplicate_of=_day("duplicate_file", "-a.csv"),
            ),
        ),
        markers=_leads_in("duplicate_file", 1, 2, in_raw=True, published=True),
    ),
    Case(
        "extra_and_missing_columns",
        "An extra column is added to the raw table; a missing optional column is null.",
        _extra_and_missing_columns,
        files=(
            FileExpect(
                _day("extra_and_missing_columns"),
                "loaded",
                2,
                2,
                0,
                2,
                extra_columns=(EXTRA,),
                missing_columns=("Country",),
            ),
        ),
        raw_cells=(
            RawCell(lead_id("extra_and_missing_columns", 1), EXTRA, "extra"),
            RawCell(lead_id("extra_and_missing_columns", 1), "Country", None),
        ),
        markers=_leads_in("extra_and_missing_columns", 1, 2, in_raw=True, published=True),
    ),
    Case(
        "missing_required_column",
        "A file without a required column fails, naming it.",
        _missing_required_column,
        files=(
            FileExpect(
                _day("missing_required_column"),
                "failed",
                rows_counted=2,
                error="missing required column(s) Status",
            ),
        ),
        markers=_leads_in("missing_required_column", 1, 2, in_raw=False, published=False),
        shown=(f"{_day('missing_required_column')}: missing required column(s) Status",),
    ),
]
