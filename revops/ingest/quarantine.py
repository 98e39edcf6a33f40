"""Row-level quarantine: the rules a delivered row must pass to enter its raw table.

A row whose value cannot be cast to its contract type, or whose required value is empty, goes
to `raw._quarantine` (one row per failing column, the whole row kept as JSON) instead of its
raw table, so that one bad cell never reaches staging (docs/INGESTION.md, "Row-level
quarantine"). Each rule is the DuckDB expression staging casts the column with (the DuckDB
implementations of the macros in macros/cross_database/), so the loader accepts exactly the
values staging can cast; tests/test_ingest_quarantine.py runs both on a table of tricky values.
Every rule is SQL over the whole batch: no value is checked in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from revops import contract
from revops.contract import Column, ExportObject

REQUIRED = "required"

# The SQL type staging casts each contract type to (`try_cast(x as <type>)`), and the columns
# staging casts to another one. Money in Stripe's and Google's minor units goes through
# `minor_units_to_decimal` (decimal(18, 0)); ratios are decimal(5, 2); ad spend and FX rates
# keep six decimals.
_DEFAULT_SQL_TYPE = {
    contract.INTEGER: "bigint",
    contract.DECIMAL: "decimal(18, 2)",
    contract.DATE: "date",
}
_MINOR_UNITS = "decimal(18, 0)"
_RATIO = "decimal(5, 2)"
_SIX_DECIMALS = "decimal(18, 6)"
SQL_TYPE_OVERRIDES: dict[tuple[str, str, str], str | None] = {
    ("salesforce", "Opportunity", "Probability"): _RATIO,
    ("salesforce", "OpportunityHistory", "Probability"): _RATIO,
    ("salesforce", "OpportunityStage", "DefaultProbability"): _RATIO,
    ("stripe", "coupons", "percent_off"): _RATIO,
    ("linkedin_ads", "ad_analytics", "costInLocalCurrency"): _SIX_DECIMALS,
    ("linkedin_ads", "ad_analytics", "costInUsd"): _SIX_DECIMALS,
    ("meta_ads", "ads_insights", "spend"): _SIX_DECIMALS,
    ("reference", "fx_rates", "rate"): _SIX_DECIMALS,
    ("google_ads", "campaign_stats", "metrics.cost_micros"): _MINOR_UNITS,
    ("stripe", "prices", "unit_amount"): _MINOR_UNITS,
    ("stripe", "invoices", "subtotal"): _MINOR_UNITS,
    ("stripe", "invoices", "total"): _MINOR_UNITS,
    ("stripe", "invoices", "amount_due"): _MINOR_UNITS,
    ("stripe", "invoices", "amount_paid"): _MINOR_UNITS,
    ("stripe", "invoices", "amount_remaining"): _MINOR_UNITS,
    ("stripe", "invoice_line_items", "amount"): _MINOR_UNITS,
    ("stripe", "charges", "amount"): _MINOR_UNITS,
    ("stripe", "charges", "amount_captured"): _MINOR_UNITS,
    ("stripe", "charges", "amount_refunded"): _MINOR_UNITS,
    ("stripe", "refunds", "amount"): _MINOR_UNITS,
    ("stripe", "coupons", "amount_off"): _MINOR_UNITS,
    # Staging keeps the campaign id as text (trimmed): any value is accepted.
    ("google_ads", "campaign_stats", "campaign.id"): None,
}

_MESSAGES = {
    contract.TIMESTAMP: "not an ISO 8601 timestamp (e.g. 2025-03-01T14:02:11.000Z)",
    contract.DATE: "not a date (YYYY-MM-DD)",
    contract.INTEGER: "not a whole number",
    contract.DECIMAL: "not a decimal number",
    contract.BOOLEAN: "not a boolean (true / false)",
    contract.UNIX_TIME: "not a Unix time (whole seconds since 1970-01-01 UTC)",
    contract.OBJECT: "not a JSON object",
    contract.ARRAY: "not a JSON array",
}


def sql_type(obj: ExportObject, column: Column) -> str | None:
    """The SQL type staging casts `column` to, or None when staging does not cast it."""
    key = (obj.source, obj.name, column.name)
    if key in SQL_TYPE_OVERRIDES:
        return SQL_TYPE_OVERRIDES[key]
    return _DEFAULT_SQL_TYPE.get(column.type)


def parsed_sql(obj: ExportObject, column: Column, expr: str) -> str | None:
    """SQL of `expr` (delivered text) as staging types it: null when staging's cast fails.
    None for a column staging keeps as text (strings, and the overrides set to None)."""
    kind = column.type
    if kind == contract.TIMESTAMP:
        # macros/cross_database/parse_utc_timestamp.sql (duckdb__)
        return (
            f"case when regexp_matches(trim({expr}), '(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$') "
            f"then timezone('UTC', try_cast(trim({expr}) as timestamptz)) "
            f"else try_cast(trim({expr}) as timestamp) end"
        )
    if kind == contract.BOOLEAN:
        return f"try_cast(lower(trim({expr})) as boolean)"
    if kind == contract.UNIX_TIME:
        # macros/cross_database/from_unix_seconds.sql (duckdb__); an overflow there is an
        # error, which `try` turns into null here.
        return f"try(make_timestamp(try_cast({expr} as bigint) * 1000000))"
    if kind in (contract.OBJECT, contract.ARRAY):
        # json_extract_text raises on malformed JSON: a column of nested data must be JSON of
        # its type.
        want = "OBJECT" if kind == contract.OBJECT else "ARRAY"
        return f"case when json_valid({expr}) and json_type({expr}) = '{want}' then {expr} end"
    target = sql_type(obj, column)
    if target is None:
        return None
    if target == _MINOR_UNITS:
        # macros/staging/minor_units_to_decimal.sql: decimal(18, 0) times the currency's
        # minor-unit factor, cast to decimal(18, scale), which raises on overflow. The factor
        # depends on the row's currency; the rule takes the one that accepts least (1, for
        # currencies without minor units), so that no accepted amount can break staging.
        scale, factor = (6, "0.000001") if obj.source == "google_ads" else (4, "1")
        return f"try_cast(try_cast({expr} as {_MINOR_UNITS}) * {factor} as decimal(18, {scale}))"
    return f"try_cast({expr} as {target})"


# The name the rules bind a trimmed value to (delivered columns may not start with `_revops_`).
_TRIMMED = "_revops_trimmed"
_OFFSET_AT_END = "'(Z|[+-][0-9]{2}:?[0-9]{2})$'"


def invalid_sql(obj: ExportObject, column: Column, expr: str) -> str | None:
    """True when `expr` is not empty (null or blank) and staging cannot cast it, i.e. exactly
    `not (<empty>) and (<parsed_sql>) is null`, never null; None for a column staging keeps as
    text. Spelled to be cheap, since every row of every batch is checked: `trim(expr)` once
    (bound by a lambda) where it would be computed three times, and `timezone('UTC', ...)` left
    out (null only when its argument is). tests/test_ingest_quarantine.py holds it equal to the
    plain form on tricky values."""
    parsed = parsed_sql(obj, column, expr)
    if parsed is None:
        return None
    if column.type == contract.TIMESTAMP:
        t = _TRIMMED
        return (
            f"({expr} is not null and list_transform([trim({expr})], lambda {t}: {t} <> '' and "
            f"case when regexp_matches({t}, {_OFFSET_AT_END}) "
            f"then try_cast({t} as timestamptz) is null "
            f"else try_cast({t} as timestamp) is null end)[1])"
        )
    return f"({expr} is not null and trim({expr}) <> '' and ({parsed}) is null)"


def rule_name(column: Column) -> str:
    return f"cast:{column.type}"


def message(obj: ExportObject, column: Column) -> str:
    target = sql_type(obj, column)
    text = _MESSAGES.get(column.type, f"not a {column.type}")
    if target and column.type in (contract.INTEGER, contract.DECIMAL):
        text += f" that fits {target}"
    return text


def _empty(expr: str) -> str:
    # `nullif(trim(x), '') is null`, at half the cost
    return f"({expr} is null or trim({expr}) = '')"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def failures_sql(
    obj: ExportObject, columns: Sequence[str], value: Callable[[str], str]
) -> str | None:
    """A list of structs (column_name, value, rule, message), one per failing column of the
    row, over a batch whose data column `c` is `value(c)`; None when no column has a rule.

    Only contract columns among `columns` (the file's) are checked; extra columns are free
    text. A required column that is empty fails `required`; a present value that staging
    cannot cast fails `cast:<type>`. A Stripe deletion tombstone (`deleted` true, the object's
    other fields absent) is exempt from `required`.
    """
    rules = _rules(obj, columns, value)
    if not rules:
        return None
    checks = [f"case when {condition} then {struct} end" for condition, struct in rules]
    return "list_filter([" + ", ".join(checks) + "], lambda f: f is not null)"


def failing_sql(
    obj: ExportObject, columns: Sequence[str], value: Callable[[str], str]
) -> str | None:
    """True for a row that `failures_sql` gives a non-empty list (never null), None when no
    column has a rule: the cheap test that picks the few rows whose list is worth building.
    Building a list of structs for every row of a batch cost as much as reading it."""
    rules = _rules(obj, columns, value)
    if not rules:
        return None
    return "(" + " or ".join(f"({condition})" for condition, _ in rules) + ")"


def _rules(
    obj: ExportObject, columns: Sequence[str], value: Callable[[str], str]
) -> list[tuple[str, str]]:
    """(condition, failure struct) per rule of the columns present; each condition is true or
    false, never null (`is null` tests and `coalesce`), so `failing_sql` is exactly "some rule
    fails"."""
    present = set(columns)
    tombstone = None
    if "deleted" in obj.column_names and "deleted" in present:
        tombstone = f"coalesce(try_cast(lower(trim({value('deleted')})) as boolean), false)"
    rules: list[tuple[str, str]] = []
    for column in obj.columns:
        if column.name not in present:
            continue
        expr = value(column.name)
        name = _sql_str(column.name)
        # An empty key makes the row a reject (MISSING KEY), never a quarantined row; a key
        # of the wrong type is checked like any value.
        if column.required and column.name not in obj.key:
            required = _empty(expr)
            if tombstone:
                required = f"({required} and not {tombstone})"
            rules.append(
                (
                    required,
                    f"{{'column_name': {name}, 'value': {expr}, "
                    f"'rule': '{REQUIRED}', 'message': 'required value is empty'}}",
                )
            )
        invalid = invalid_sql(obj, column, expr)
        if invalid is not None:
            rules.append(
                (
                    invalid,
                    f"{{'column_name': {name}, 'value': {expr}, "
                    f"'rule': {_sql_str(rule_name(column))}, "
                    f"'message': {_sql_str(message(obj, column))}}}",
                )
            )
    return rules


def key_sql(obj: ExportObject, value: Callable[[str], str]) -> str:
    """The row's key as text: the value of a one-column key, else a JSON array of the values.
    Quarantined rows and raw rows are matched on it (a corrected version releases a row)."""
    if len(obj.key) == 1:
        return f"cast({value(obj.key[0])} as varchar)"
    return "cast(to_json([" + ", ".join(value(k) for k in obj.key) + "]) as varchar)"
