"""What BI tools read besides the numbers: every published table and column carries a real
comment (not its own name), the snapshot's `metric_definitions` lists every metric of
docs/METRICS.md with ratios that equal their parts, and SQLAlchemy (duckdb-engine, what
Superset uses) reflects every published table's columns. Generic over the published set, so
new marts are covered as they are added."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from revops import metric_definitions as md
from revops import publish
from revops.publish import MartColumn, MartTable
from tests.test_metric_docs import table_rows

ROOT = Path(__file__).resolve().parent.parent


def poor_comment(name: str, comment: str | None) -> bool:
    """No comment, or one that only repeats the name ("Arpa." for `arpa`)."""
    if not comment or not comment.strip():
        return True
    return re.sub(r"[^a-z0-9]", "", comment.lower()) == re.sub(r"[^a-z0-9]", "", name.lower())


def served(serving: Path) -> duckdb.DuckDBPyConnection:
    return publish.connect_read_only(Path(serving) / publish.SERVING_FILE)


def doc_metric_tables() -> set[tuple[str, str]]:
    """(metric, model) of every row of METRICS.md's metric tables, read apart from
    revops/metric_definitions.py: the first cell, without Markdown, and each model its
    `columns` cell names."""
    found = set()
    for cells in table_rows((ROOT / "docs/METRICS.md").read_text(), "columns"):
        metric = re.sub(r"\s+", " ", cells[0].replace("`", "").replace("**", "")).strip()
        for part in cells[-1].split(","):
            found.add((metric, part.strip().strip("`").split(".")[0]))
    return found


# --- unit: the rule and the reader, on small inputs computed by hand -------------------------


def test_a_comment_that_repeats_the_name_is_poor():
    assert poor_comment("arpa", "Arpa.")
    assert poor_comment("cohort_reached_mql", "Cohort reached mql.")
    assert poor_comment("leads", "")
    assert poor_comment("leads", None)
    assert not poor_comment("arpa", "Average revenue per account = MRR / customers.")


DOC = """# Metrics

## Things (grain: month)

| metric | formula | grain, filters, edge cases | columns |
|---|---|---|---|
| Close rate | won / closed | null with no closes | `t.close_rate`, {NUM}, {DEN} |
| **Won** | `won` count | | `t.won`, `u.won` |

### Other

| metric | definition | columns |
|---|---|---|
| Deal size | amount / deals | `t.deal_size` |

| label | column |
|---|---|
| ignored | `t.won` |
""".replace("{NUM}", "`t.close_rate_numerator`").replace("{DEN}", "`t.close_rate_denominator`")
COLUMNS_T = ("month", "close_rate", "close_rate_numerator", "close_rate_denominator", "won")
TABLE_T = MartTable(
    "t",
    "One row per month.",
    (
        *(MartColumn(name) for name in (*COLUMNS_T, "amount", "deals")),
        MartColumn("deal_size", numerator="amount", denominator="deals"),
    ),
    ("month",),
)
TABLE_U = MartTable("u", "One row per month x segment.", (MartColumn("won"),), ("month", "segment"))


def test_metric_definitions_are_read_from_the_doc_tables():
    rows = md.metric_definitions(DOC, [TABLE_T, TABLE_U])
    assert [(r.metric, r.table_name, r.rate_column, r.numerator_column, r.denominator_column)
            for r in rows] == [
        ("Close rate", "t", "close_rate", "close_rate_numerator", "close_rate_denominator"),
        ("Won", "t", None, None, None),
        ("Won", "u", None, None, None),
        ("Deal size", "t", "deal_size", "amount", "deals"),
    ]  # fmt: skip
    close, won_t, won_u, size = rows
    assert close.formula == "won / closed"
    assert close.filters_and_edge_cases == "null with no closes"
    assert close.grain == "month"
    assert close.section == "Things (grain: month)"
    assert close.columns == "close_rate, close_rate_numerator, close_rate_denominator"
    assert won_t.formula == "won count" and won_t.filters_and_edge_cases is None
    assert won_u.grain == "month x segment"
    assert size.section == "Other" and size.filters_and_edge_cases is None


def test_a_doc_column_or_table_that_is_not_published_stops_the_definitions():
    with pytest.raises(md.MetricDocError, match="u is not published"):
        md.metric_definitions(DOC, [TABLE_T])
    with pytest.raises(md.MetricDocError, match="t has no column close_rate_denominator"):
        cut = MartTable(
            "t", "", tuple(c for c in TABLE_T.columns if c.name != "close_rate_denominator")
        )
        md.metric_definitions(DOC, [cut, TABLE_U])
    with pytest.raises(md.MetricDocError, match=r"not `model\.column`"):
        md.metric_definitions(DOC.replace("`t.deal_size`", "deal_size"), [TABLE_T, TABLE_U])


def test_a_declared_ratio_part_that_is_not_a_column_stops_the_definitions():
    broken = MartTable(
        "t",
        "",
        (
            *(c for c in TABLE_T.columns if c.name != "deal_size"),
            MartColumn("deal_size", numerator="amount", denominator="deal_count"),
        ),
    )
    with pytest.raises(md.MetricDocError, match="'deal_count' is not a column of t"):
        md.metric_definitions(DOC, [broken, TABLE_U])


# --- the project: YAML descriptions of every published table (no build needed) --------------


def test_every_published_table_and_column_has_a_description_in_its_yaml(dbt_manifest):
    tables = publish.mart_tables(dbt_manifest)
    assert len(tables) >= 20
    poor = [t.name for t in tables if poor_comment(t.name, t.description)]
    poor += [
        f"{t.name}.{c.name}: {c.description!r}"
        for t in tables
        for c in t.columns
        if t.policy(c.name) != "drop" and poor_comment(c.name, c.description)
    ]
    assert poor == []


def test_every_metric_table_row_of_the_doc_has_definitions(dbt_manifest):
    rows = md.load(publish.mart_tables(dbt_manifest))
    assert {(r.metric, r.table_name) for r in rows} == doc_metric_tables()
    assert len(rows) >= 80
    assert sum(1 for r in rows if r.rate_column) >= 40


# --- the published snapshot (the session's xs company) --------------------------------------


def test_every_published_table_and_column_has_a_comment(xs_published):
    con = served(xs_published["serving"])
    try:
        tables = con.execute(
            "select table_name, comment from duckdb_tables() "
            "where schema_name = 'main' and not internal"
        ).fetchall()
        columns = con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'main' and not internal"
        ).fetchall()
    finally:
        con.close()
    names = {name for name, _ in tables}
    assert publish.METRIC_DEFINITIONS_TABLE in names and "revops_metrics" in names
    assert len(columns) > 500
    poor = [f"table {name}: {comment!r}" for name, comment in tables if poor_comment(name, comment)]
    poor += [
        f"{table}.{column}: {comment!r}"
        for table, column, comment in columns
        if poor_comment(column, comment)
    ]
    assert poor == []


def test_metric_definitions_lists_every_metric_of_metrics_md(xs_published):
    con = served(xs_published["serving"])
    try:
        rows = con.execute(
            "select metric, table_name, rate_column, numerator_column, denominator_column, "
            "formula, grain from metric_definitions"
        ).fetchall()
        have = {
            (table, column)
            for table, column in con.execute(
                "select table_name, column_name from information_schema.columns"
            ).fetchall()
        }
    finally:
        con.close()
    assert {(metric, table) for metric, table, *_ in rows} == doc_metric_tables()
    for metric, table, rate, numerator, denominator, formula, grain in rows:
        assert formula and grain, metric
        for column in (rate, numerator, denominator):
            assert column is None or (table, column) in have, (metric, table, column)
        assert (rate is None) == (numerator is None) == (denominator is None), metric


def test_metric_definitions_ratios_equal_their_parts_in_the_data(xs_published):
    """rate = numerator / denominator on every row where the rate has a value, and no rate
    where the denominator is 0; a wrong part (a mislabelled numerator) fails here."""
    con = served(xs_published["serving"])
    try:
        ratios = con.execute(
            "select distinct table_name, rate_column, numerator_column, denominator_column "
            "from metric_definitions where rate_column is not null"
        ).fetchall()
        compared = 0
        for table, rate, numerator, denominator in ratios:
            wrong, zero, valued = con.execute(
                f"""
                select
                    count(*) filter (
                        where "{rate}" is not null
                        and ("{denominator}" is null or "{denominator}" = 0
                             or abs("{rate}" - cast("{numerator}" as double) / "{denominator}")
                                > 1e-9 * greatest(1, abs("{rate}")))
                    ),
                    count(*) filter (where "{denominator}" = 0 and "{rate}" is not null),
                    count("{rate}")
                from "{table}"
                """
            ).fetchone()
            assert (wrong, zero) == (0, 0), (table, rate, numerator, denominator, wrong, zero)
            compared += valued > 0
    finally:
        con.close()
    assert len(ratios) >= 40
    assert compared >= len(ratios) - 5  # a few (lagged CAC, ROAS) may be null at xs


def test_sqlalchemy_reflects_every_published_table(xs_published):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    path = Path(xs_published["serving"]) / publish.SERVING_FILE
    con = served(xs_published["serving"])
    try:
        expected = {}
        for table, column, comment in con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'main' and not internal order by table_name, column_index"
        ).fetchall():
            expected.setdefault(table, []).append((column, comment))
    finally:
        con.close()
    engine = sqlalchemy.create_engine(
        f"duckdb:///{path}",
        connect_args={
            "read_only": True,
            "config": {"enable_external_access": False, "lock_configuration": True},
        },
    )
    try:
        inspector = sqlalchemy.inspect(engine)
        assert set(inspector.get_table_names()) == set(expected)
        for table, columns in expected.items():
            got = [(c["name"], c["comment"]) for c in inspector.get_columns(table)]
            assert got == columns, table
            assert inspector.get_table_comment(table)["text"], table
    finally:
        engine.dispose()


def test_a_publish_of_some_marts_names_the_metrics_it_leaves_out():
    skipped: list[str] = []
    rows = md.metric_definitions(DOC, [TABLE_T], skipped)
    assert skipped == ["Won (u)"]
    assert [(r.metric, r.table_name) for r in rows] == [
        ("Close rate", "t"), ("Won", "t"), ("Deal size", "t")
    ]  # fmt: skip
