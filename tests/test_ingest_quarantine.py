"""Row-level quarantine at ingest (issue 16): a row with a value staging cannot cast, or an empty
required value, is kept out of its raw table in `raw._quarantine`, and a corrected version
releases it. The loader's rules must accept exactly what staging's casts accept."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from revops import contract
from revops.ingest import forget_file, ingest_landing
from revops.ingest import quarantine as rules
from revops.ingest.reconcile import reconcile_warehouse
from tests.ingest_support import (
    DAY,
    DAY2,
    csv_bytes,
    jsonl_bytes,
    ledger,
    obj,
    query,
    rows,
    write,
)

ROOT = Path(__file__).resolve().parents[1]
LEAD = "salesforce/Lead"
CUSTOMERS = "stripe/customers"
LEAD_CSV = f"{LEAD}/{DAY}/Lead.csv"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def _lead_file(landing: Path, day: str, data: list[dict], columns: list[str] | None = None):
    columns = columns or obj(LEAD).column_names
    return write(landing, LEAD, day, "Lead.csv", csv_bytes(columns, data))


def _quarantine(warehouse: Path, where: str = "true") -> list[dict]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cur = con.execute(
            f"select * from raw._quarantine where {where} order by file_path, row_number, "
            "column_name"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def _raw_ids(warehouse: Path, table: str = "salesforce__lead", key: str = "Id") -> list[str]:
    return [r[0] for r in query(warehouse, f'select "{key}" from raw.{table} order by 1')]


# ---------------------------------------------------------------------------------------------
# What is quarantined, and what is not


def test_bad_cells_go_to_the_quarantine_not_to_raw(landing: Path, warehouse: Path):
    data = rows(LEAD, 5)
    data[1]["CreatedDate"] = "yesterday"  # row 2: two bad cells
    data[1]["NumberOfEmployees"] = "lots"
    data[3]["Company"] = "  "  # row 4: a required value that is blank
    _lead_file(landing, DAY, data)

    summary = ingest_landing(landing, warehouse)

    assert summary.ok, summary.errors
    assert _raw_ids(warehouse) == ["Id-1", "Id-3", "Id-5"]
    got = _quarantine(warehouse)
    assert [(q["row_number"], q["column_name"], q["value"], q["rule"]) for q in got] == [
        (2, "CreatedDate", "yesterday", "cast:timestamp"),
        (2, "NumberOfEmployees", "lots", "cast:integer"),
        (4, "Company", "  ", "required"),
    ]
    first = got[0]
    assert first["file_path"] == LEAD_CSV
    assert first["key_value"] == "Id-2"
    assert first["raw_table"] == "salesforce__lead"
    assert first["message"].startswith("not an ISO 8601 timestamp")
    assert first["line_number"] is None  # CSV records may span lines: not known
    assert first["released_at"] is None
    # The whole delivered row, every column's text: nothing is lost.
    row = json.loads(first["row_json"])
    assert list(row) == obj(LEAD).column_names
    assert row["Id"] == "Id-2" and row["NumberOfEmployees"] == "lots"
    # The ledger adds up: read = loaded + rejected + quarantined = counted.
    (entry,) = ledger(warehouse)
    assert (entry["rows_read"], entry["rows_loaded"], entry["rows_rejected"]) == (5, 3, 0)
    assert (entry["rows_quarantined"], entry["rows_counted"]) == (2, 5)
    (reconciled,) = reconcile_warehouse(warehouse, [obj(LEAD)])
    assert reconciled.ok, reconciled.problems
    assert (reconciled.rows_quarantined, reconciled.rows_loaded) == (2, 3)
    # The summary counts them and names file, row and column.
    (lead,) = [o for o in summary.objects if o.folder == LEAD]
    assert (lead.rows_loaded, lead.rows_quarantined, summary.rows_quarantined) == (3, 2, 2)
    text = summary.format_table()
    assert "rows_quarantined" in text
    assert f"{LEAD_CSV} row 2, column CreatedDate: 'yesterday' (cast:timestamp)" in text


def test_rejected_rows_are_not_also_quarantined(landing: Path, warehouse: Path):
    data = rows(LEAD, 3)
    data[1]["Id"] = ""  # no key: a reject, whatever else is wrong with it
    data[1]["CreatedDate"] = "yesterday"
    _lead_file(landing, DAY, data)

    ingest_landing(landing, warehouse)

    assert _quarantine(warehouse) == []
    assert query(warehouse, "select error_type from raw._rejects") == [("MISSING KEY",)]
    (entry,) = ledger(warehouse)
    assert (entry["rows_loaded"], entry["rows_rejected"], entry["rows_quarantined"]) == (2, 1, 0)


def test_extra_and_absent_optional_columns_are_not_checked(landing: Path, warehouse: Path):
    columns = [c for c in obj(LEAD).column_names if c != "NumberOfEmployees"] + ["Score__c"]
    data = rows(LEAD, 2)
    for row in data:
        row["Score__c"] = "not a number, and free text"
    _lead_file(landing, DAY, data, columns)

    ingest_landing(landing, warehouse)

    assert _quarantine(warehouse) == []
    assert _raw_ids(warehouse) == ["Id-1", "Id-2"]


def test_a_key_of_the_wrong_type_is_quarantined(landing: Path, warehouse: Path):
    folder = "reference/fx_rates"
    data = rows(folder, 2)
    data[0]["rate_date"] = "last friday"
    write(landing, folder, DAY, "fx_rates.csv", csv_bytes(obj(folder).column_names, data))

    ingest_landing(landing, warehouse)

    (q,) = _quarantine(warehouse)
    assert (q["column_name"], q["value"], q["rule"]) == ("rate_date", "last friday", "cast:date")
    assert json.loads(q["key_value"]) == ["last friday", "base_currency-1", "quote_currency-1"]
    assert query(warehouse, "select count(*) from raw.reference__fx_rates") == [(1,)]


def test_jsonl_bad_cells_tombstones_and_nested_json(landing: Path, warehouse: Path):
    data = rows(CUSTOMERS, 4)
    data[0]["created"] = "soon"
    data[1]["address"] = "12 High Street"  # a string where an object belongs
    data[2]["created"] = 99_999_999_999_999  # seconds beyond any timestamp: staging would fail
    data.append({"id": "cus_gone", "object": "customer", "deleted": True})  # a tombstone
    data.append({"id": "cus_x", "object": "customer", "created": None})  # required, null
    write(landing, CUSTOMERS, DAY, "customers.jsonl", jsonl_bytes(data))

    ingest_landing(landing, warehouse)

    got = [
        (q["row_number"], q["line_number"], q["column_name"], q["rule"])
        for q in _quarantine(warehouse)
    ]
    assert got == [
        (1, 1, "created", "cast:unix_time"),
        (2, 2, "address", "cast:object"),
        (3, 3, "created", "cast:unix_time"),
        (6, 6, "created", "required"),
    ]
    # JSON Lines keep the delivered line itself.
    (first,) = _quarantine(warehouse, "row_number = 1")
    assert json.loads(first["row_json"]) == data[0]
    assert _raw_ids(warehouse, "stripe__customers", "id") == ["cus_gone", "id-4"]


def test_old_ledgers_gain_rows_quarantined(tmp_path: Path, landing: Path, warehouse: Path):
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw")
    from revops.ingest.warehouse import LEDGER_DDL

    old = LEDGER_DDL.replace(",\n    rows_counted bigint,\n    rows_quarantined bigint", "")
    assert "rows_quarantined" not in old and "rows_counted" not in old
    con.execute(old)
    con.close()
    data = rows(LEAD, 2)
    data[0]["CreatedDate"] = "never"
    _lead_file(landing, DAY, data)

    ingest_landing(landing, warehouse)

    (entry,) = ledger(warehouse)
    assert (entry["rows_loaded"], entry["rows_quarantined"], entry["rows_counted"]) == (1, 1, 2)


def test_files_not_read_have_no_quarantine_count(landing: Path, warehouse: Path):
    write(landing, LEAD, DAY, "Lead.csv", b"Id;LastName\n1;x\n")  # fails at the header
    _lead_file(landing, DAY2, rows(LEAD, 1))
    write(landing, LEAD, DAY2, "Lead copy.csv", (landing / LEAD / DAY2 / "Lead.csv").read_bytes())

    ingest_landing(landing, warehouse)

    by_status = {r["status"]: r["rows_quarantined"] for r in ledger(warehouse)}
    assert by_status == {"failed": None, "loaded": 0, "duplicate": None}


# ---------------------------------------------------------------------------------------------
# Release: a corrected version of the row


def test_a_corrected_redelivery_releases_the_row(landing: Path, warehouse: Path):
    data = rows(LEAD, 3)
    data[1]["CreatedDate"] = "yesterday"
    data[1]["NumberOfEmployees"] = "lots"
    _lead_file(landing, DAY, data)
    ingest_landing(landing, warehouse)
    assert {q["released_at"] for q in _quarantine(warehouse)} == {None}

    # The next day's delivery: another lead only; nothing released.
    _lead_file(landing, DAY2, rows(LEAD, 1, start=7))
    ingest_landing(landing, warehouse)
    assert {q["released_at"] for q in _quarantine(warehouse)} == {None}

    write(
        landing,
        LEAD,
        "2025-03-03",
        "Lead.csv",
        csv_bytes(obj(LEAD).column_names, rows(LEAD, 1, start=2)),
    )
    again = ingest_landing(landing, warehouse)

    released = _quarantine(warehouse)
    assert len(released) == 2
    assert {q["released_by_file"] for q in released} == {f"{LEAD}/2025-03-03/Lead.csv"}
    assert {q["released_load_id"] for q in released} == {again.load_id}
    assert all(q["released_at"] is not None for q in released)
    assert "Id-2" in _raw_ids(warehouse)


def test_within_one_run_only_a_later_row_releases(landing: Path, warehouse: Path):
    bad = rows(LEAD, 1, start=2)[0] | {"CreatedDate": "yesterday"}
    good = rows(LEAD, 1, start=2)[0]
    _lead_file(landing, DAY, [good])  # the good version first ...
    write(landing, LEAD, DAY2, "Lead.csv", csv_bytes(obj(LEAD).column_names, [bad]))  # ... then bad
    write(landing, LEAD, DAY2, "Lead_2.csv", csv_bytes(obj(LEAD).column_names, [bad, good]))

    ingest_landing(landing, warehouse)

    got = {(q["file_path"], q["released_by_file"]) for q in _quarantine(warehouse)}
    # Day 2's Lead.csv is corrected by Lead_2.csv (a later file); Lead_2.csv's bad row by its own
    # row 2. Day 1's good row, delivered before, releases nothing.
    assert got == {
        (f"{LEAD}/{DAY2}/Lead.csv", f"{LEAD}/{DAY2}/Lead_2.csv"),
        (f"{LEAD}/{DAY2}/Lead_2.csv", f"{LEAD}/{DAY2}/Lead_2.csv"),
    }


def test_an_earlier_good_row_does_not_release(landing: Path, warehouse: Path):
    good = rows(LEAD, 1, start=2)[0]
    bad = good | {"NumberOfEmployees": "many"}
    _lead_file(landing, DAY, [good])
    _lead_file(landing, DAY2, [bad])

    ingest_landing(landing, warehouse)

    (q,) = _quarantine(warehouse)
    assert q["released_at"] is None


def test_a_new_version_of_the_file_releases_its_rows(landing: Path, warehouse: Path):
    data = rows(LEAD, 2)
    data[1]["Id"] = "Id-x"
    data[1]["CreatedDate"] = "yesterday"
    path = _lead_file(landing, DAY, data)
    ingest_landing(landing, warehouse)
    # Re-delivered without the bad row (its key may itself have been wrong).
    path.write_bytes(csv_bytes(obj(LEAD).column_names, data[:1]))

    ingest_landing(landing, warehouse)

    (q,) = _quarantine(warehouse)
    assert q["released_by_file"] == LEAD_CSV and q["released_at"] is not None


def test_forget_file_removes_its_quarantine_and_reopens_what_it_released(
    landing: Path, warehouse: Path
):
    bad = rows(LEAD, 1, start=2)[0] | {"CreatedDate": "yesterday"}
    _lead_file(landing, DAY, [bad])
    ingest_landing(landing, warehouse)
    _lead_file(landing, DAY2, rows(LEAD, 1, start=2))
    ingest_landing(landing, warehouse)
    assert _quarantine(warehouse)[0]["released_by_file"] == f"{LEAD}/{DAY2}/Lead.csv"

    deleted = forget_file(warehouse, f"{LEAD}/{DAY2}/Lead.csv")

    assert deleted["raw._quarantine"] == 0
    (q,) = _quarantine(warehouse)
    assert (q["released_at"], q["released_by_file"]) == (None, None)
    assert forget_file(warehouse, LEAD_CSV)["raw._quarantine"] == 1
    assert _quarantine(warehouse) == []


# ---------------------------------------------------------------------------------------------
# The loader's rules and staging's casts agree


def _macro_timestamp(x: str) -> str:
    """macros/cross_database/parse_utc_timestamp.sql, duckdb__ (rendered by hand)."""
    return (
        f"case when regexp_matches(trim({x}), '(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$') "
        f"then timezone('UTC', try_cast(trim({x}) as timestamptz)) "
        f"else try_cast(trim({x}) as timestamp) end"
    )


def _macro_unix(x: str) -> str:
    """macros/cross_database/from_unix_seconds.sql, duckdb__."""
    return f"make_timestamp(try_cast({x} as bigint) * 1000000)"


def _macro_minor_units(x: str, exponent: str = "0", scale: int = 4) -> str:
    """macros/staging/minor_units_to_decimal.sql. The exponent is the row's currency's; the
    loader takes exponent 0 (JPY), the one that accepts least: with it, an amount of 10^14
    minor units or more overflows decimal(18, 4) and stops the build. (With cents the limit
    is 10^16: the loader then quarantines amounts from 10^12 dollars up that staging would
    take, the one place where it is stricter.)"""
    factor = {"0": "1", "6": "0.000001"}[exponent]
    return f"cast(try_cast({x} as decimal(18, 0)) * {factor} as decimal(18, {scale}))"


def _staging_expression(snippet: str, x: str) -> str:
    """The DuckDB SQL a staging snippet (as written in the model) renders to, over `x`."""
    if snippet.startswith("parse_utc_timestamp("):
        return _macro_timestamp(x)
    if snippet.startswith("from_unix_seconds("):
        return _macro_unix(x)
    if snippet.startswith("minor_units_to_decimal("):
        return _macro_minor_units(x, *(("6", 6) if ", 6, scale=6" in snippet else ()))
    if "'lower(trim(" in snippet:
        return f"try_cast(lower(trim({x})) as boolean)"
    sql_type = re.fullmatch(r"try_cast\('[^']+', '([^']+)'\)", snippet)
    assert sql_type, snippet
    return f"try_cast({x} as {sql_type.group(1)})"


# Raw columns a staging model reads under another name (its `source` CTE's alias).
_STAGED_AS = {
    ("google_ads/campaign_stats", "segments.date"): "segments_date",
    ("google_ads/campaign_stats", "metrics.cost_micros"): "cost_micros",
    ("google_ads/campaign_stats", "metrics.impressions"): "impressions",
    ("google_ads/campaign_stats", "metrics.clicks"): "clicks",
    ("linkedin_ads/ad_analytics", "date"): "report_date_text",
    ("linkedin_ads/ad_analytics", "costInLocalCurrency"): "cost_in_local_currency",
    ("linkedin_ads/ad_analytics", "costInUsd"): "cost_in_usd",
    ("reference/expenses", "month"): "month_text",
}
# Typed columns that staging does not cast: nested JSON that staging reads with
# json_extract_text (null, not an error, on text that is not JSON) or does not read at all.
# The loader holds them to the contract's type anyway: a silent null is what the quarantine
# exists to prevent.
_NOT_CAST_IN_STAGING = {
    (f, c)
    for f, cols in {
        "stripe/customers": ["address", "metadata"],
        # HubSpot's nested data: read with json_extract_text and the json_explode macros
        "hubspot/contacts": ["properties", "propertiesWithHistory", "associations"],
        "hubspot/companies": ["properties"],
        "hubspot/deals": ["properties", "propertiesWithHistory", "associations"],
        "hubspot/owners": ["teams"],
        "hubspot/deal_pipelines": ["stages"],
        "hubspot/campaigns": ["properties"],
        "stripe/products": ["metadata", "updated"],
        "stripe/prices": ["recurring"],
        "stripe/subscriptions": ["discount", "discounts", "metadata"],
        "stripe/subscription_items": ["price"],
        "stripe/invoices": [
            "total_discount_amounts",
            "status_transitions",
            "parent",
            "total_taxes",
        ],
        "stripe/invoice_line_items": [
            "price",
            "pricing",
            "parent",
            "discount_amounts",
            "discounts",
            "period",
        ],
    }.items()
    for c in cols
}


def _expected_snippet(export: contract.ExportObject, column: contract.Column) -> str | None:
    """The staging call that casts `column`, as the model must spell it, from the loader's
    rule: so a change on either side shows up here."""
    name = _STAGED_AS.get((export.folder, column.name), column.name)
    sql_type = rules.sql_type(export, column)
    if column.type == contract.TIMESTAMP:
        return f"parse_utc_timestamp('{name}')"
    if column.type == contract.BOOLEAN:
        return f"try_cast('lower(trim({name}))', 'boolean')"
    if column.type == contract.UNIX_TIME:
        return f"from_unix_seconds('{name}')"
    if sql_type == "decimal(18, 0)":
        return f"minor_units_to_decimal('{name}" + (
            "', 6, scale=6)" if name == "cost_micros" else "_minor'"
        )
    if sql_type is not None:
        return f"try_cast('{name}', '{sql_type}')"
    return None


class _Spelled:
    """Stands for the project's macros while a staging macro is rendered: a call renders as it
    is spelled in a model (`try_cast('Amount', 'decimal(18, 2)')`), so the casts a shared
    staging macro applies are compared like those written in the model itself."""

    def __getattr__(self, name: str):
        def spelled(*args) -> str:
            return f"{name}(" + ", ".join(repr(a) for a in args) + ")"

        return spelled


def _with_staging_macros(text: str) -> str:
    """`text` and, after it, each staging macro it calls (`{{ name('arg', ...) }}`) rendered
    with those arguments."""
    import ast

    import jinja2

    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    rendered = [text]
    for path in sorted((ROOT / "macros" / "staging").glob("*.sql")):
        source = path.read_text()
        for name in re.findall(r"{%-?\s*macro\s+(\w+)\(", source):
            for args in re.findall(r"\{\{\s*" + name + r"\(([^)]*)\)\s*\}\}", text):
                module = env.from_string(source).make_module(
                    {"revops": _Spelled(), "dbt": _Spelled()}
                )
                try:
                    values = ast.literal_eval(f"({args},)") if args.strip() else ()
                    rendered.append(getattr(module, name)(*values))
                except (SyntaxError, ValueError, jinja2.UndefinedError):
                    # arguments that are not plain literals, or a macro that needs dbt's
                    # context: its casts are not spelled here
                    continue
    return "\n".join(rendered)


def _staging_sql(export: contract.ExportObject) -> str:
    """Every staging model that reads the object's raw table, with the staging macros it
    calls rendered."""
    needle = f"source('{export.source}', '{export.raw_table.split('__', 1)[1]}')"
    texts = [p.read_text() for p in (ROOT / "models" / "staging").rglob("stg_*.sql")]
    found = [_with_staging_macros(t) for t in texts if needle in t]
    assert found, f"no staging model reads {needle}"
    return "\n".join(found)


def _typed_columns():
    for export in contract.OBJECTS:
        for column in export.columns:
            if rules.parsed_sql(export, column, "x") is not None:
                yield export, column


def test_every_rule_is_the_cast_staging_applies():
    missing = []
    for export, column in _typed_columns():
        if (export.folder, column.name) in _NOT_CAST_IN_STAGING:
            continue
        snippet = _expected_snippet(export, column)
        if snippet is None or snippet not in _staging_sql(export):
            missing.append(f"{export.folder}.{column.name}: {snippet}")
    assert missing == []
    # ... and the overrides name real columns.
    names = {(o.source, o.name, c) for o in contract.OBJECTS for c in o.column_names}
    assert set(rules.SQL_TYPE_OVERRIDES) <= names


TRICKY = [
    "2025-03-01T14:02:11.000Z", "2025-03-01T14:02:11+02:00", "2025-03-01T14:02:11-0530",
    "2025-03-01 14:02:11", " 2025-03-01T14:02:11Z ", "2025-03-01", "2025-03-01T25:00:00Z",
    "2025-02-30T00:00:00Z", "2025-03-01T14:02:11.123456789Z", "yesterday", "20250301",
    "2025-13-01", "03/01/2025", "infinity", "-infinity", "epoch",
    "12", " 12 ", "-3", "+5", "1.5", "12.0", "1e3", "0x10", "1_000", "1,000", "NaN", "inf",
    "999.99", "1000", "12.345", "-0", "9223372036854775807", "9223372036854775808",
    "99999999999999999", "1000000000000000000", "1740000000", "253402300800", "-62135596800",
    "99999999999999", "true", "FALSE", " yes ", "y", "t", "1", "0", "on", "off", "abc",
    "\uff11\uff12", "\u0661\u0662", "null", "{}", '{"a": 1}', "[1, 2]", "[]", '"s"', "{bad",
]  # fmt: skip


def _accepts(con: duckdb.DuckDBPyConnection, sql: str, value: str) -> bool:
    """Whether `sql` over the value is a non-null value without an error (an error in a staging
    model stops the whole build: not accepted either)."""
    try:
        return con.execute(
            f"select ({sql}) is not null from (select ?::varchar as x)", [value]
        ).fetchone()[0]
    except duckdb.Error:
        return False


def test_the_loader_accepts_exactly_what_staging_casts():
    con = duckdb.connect()
    checked = set()
    disagreements = []
    for export, column in _typed_columns():
        snippet = _expected_snippet(export, column)
        if snippet is None or (export.folder, column.name) in _NOT_CAST_IN_STAGING:
            continue
        staging = _staging_expression(snippet, "x")
        loader = rules.parsed_sql(export, column, "x")
        if (staging, loader) in checked:
            continue
        checked.add((staging, loader))
        for value in TRICKY:
            if _accepts(con, loader, value) != _accepts(con, staging, value):
                disagreements.append(f"{export.folder}.{column.name} {value!r}")
    # Every type and SQL type met: timestamp, boolean, unix time, date, bigint, the decimals.
    assert len(checked) >= 9
    assert disagreements == []


def test_nested_json_columns_must_be_json_of_their_type():
    con = duckdb.connect()
    export = obj("stripe/invoices")
    as_object = rules.parsed_sql(export, next(c for c in export.columns if c.name == "parent"), "x")
    as_array = rules.parsed_sql(
        export, next(c for c in export.columns if c.name == "total_taxes"), "x"
    )
    accepted = {v for v in TRICKY if _accepts(con, as_object, v)}
    assert accepted == {"{}", '{"a": 1}'}
    assert {v for v in TRICKY if _accepts(con, as_array, v)} == {"[1, 2]", "[]"}


def test_rows_of_a_batch_are_pinned_on_their_own_file(landing: Path, warehouse: Path):
    # Three files in one batch (same header); a malformed record shifts positions in the first.
    first = rows(LEAD, 3)
    first[2]["ConvertedDate"] = "soon"
    content = csv_bytes(obj(LEAD).column_names, first).replace(b"\nId-2,", b"\nId-x,\nId-2,", 1)
    write(landing, LEAD, DAY, "Lead.csv", content)
    second = rows(LEAD, 2, start=10)
    second[1]["IsConverted"] = "maybe"
    write(landing, LEAD, DAY2, "Lead.csv", csv_bytes(obj(LEAD).column_names, second))
    write(
        landing, LEAD, DAY2, "More.csv", csv_bytes(obj(LEAD).column_names, rows(LEAD, 2, start=20))
    )

    summary = ingest_landing(landing, warehouse)

    got = [(q["file_path"], q["row_number"], q["column_name"]) for q in _quarantine(warehouse)]
    assert got == [
        (LEAD_CSV, 4, "ConvertedDate"),  # row 2 is the malformed record, a reject
        (f"{LEAD}/{DAY2}/Lead.csv", 2, "IsConverted"),
    ]
    entries = {e["file_path"]: e for e in ledger(warehouse)}
    assert [
        (entries[p]["rows_read"], entries[p]["rows_loaded"], entries[p]["rows_rejected"],
         entries[p]["rows_quarantined"])
        for p in sorted(entries)
    ] == [(4, 2, 1, 1), (2, 1, 0, 1), (2, 2, 0, 0)]  # fmt: skip
    assert summary.rows_quarantined == 2
    assert _raw_ids(warehouse) == ["Id-1", "Id-10", "Id-2", "Id-20", "Id-21"]


# Blanks and nulls beside the tricky values: what `required` and the empty test decide on.
BLANKS = [None, "", " ", "   ", "\t", "\u00a0", " \u00a0 ", "2025-03-01T14:02:11Z\u00a0"]


def test_the_cheap_rules_equal_the_plain_ones():
    """`invalid_sql` (what the loader runs on every row) is `not <empty> and <parsed> is null`,
    and `failing_sql` is "the failure list is not empty", on every typed column and value:
    true or false, never null."""
    con = duckdb.connect()
    values = [*TRICKY, *BLANKS]
    differ = []
    seen = set()
    for export, column in _typed_columns():
        parsed = rules.parsed_sql(export, column, "x")
        plain = f"not (nullif(trim(x), '') is null) and ({parsed}) is null"
        cheap = rules.invalid_sql(export, column, "x")
        if (plain, cheap) in seen:
            continue
        seen.add((plain, cheap))
        for value in values:
            got = con.execute(
                f"select ({plain}), ({cheap}) from (select ?::varchar as x)", [value]
            ).fetchone()
            if got[0] != got[1] or got[1] is None:
                differ.append(f"{export.folder}.{column.name} {value!r}: {got}")
    assert len(seen) >= 9
    assert differ == []
    # `required` and a cast on a row of two columns: the filter, the list it stands for and
    # the plain rules agree.
    lead = obj(LEAD)
    columns = ["LastName", "CreatedDate"]
    fails = rules.failures_sql(lead, columns, lambda c: f'"{c}"')
    failing = rules.failing_sql(lead, columns, lambda c: f'"{c}"')
    created_at = next(c for c in lead.columns if c.name == "CreatedDate")
    parsed = rules.parsed_sql(lead, created_at, '"CreatedDate"')
    empty = "nullif(trim({}), '') is null"
    required = [f'"{c.name}"' for c in lead.columns if c.name in columns and c.required]
    plain = " or ".join(
        [
            *(empty.format(c) for c in required),
            f"(not ({empty.format(chr(34) + 'CreatedDate' + chr(34))}) and ({parsed}) is null)",
        ]
    )
    for last_name in [*BLANKS, "Ng"]:
        for created in values:
            got = con.execute(
                f"select ({plain}), len({fails}) > 0, {failing} "
                'from (select ?::varchar as "LastName", ?::varchar as "CreatedDate")',
                [last_name, created],
            ).fetchone()
            if len(set(got)) != 1 or got[2] is None:
                differ.append(f"{last_name!r}, {created!r}: {got}")
    assert differ == []
