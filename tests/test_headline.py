"""One headline everywhere (issue 17): the CLI headline, the report's tiles and `mf query` read
the entries of revops.headline and agree on every number, on the `xs` company `revops demo`
published (the `xs_published` session fixture)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from revops import headline as h
from revops.publish import SERVING_FILE, connect_read_only
from revops.report import definitions as d
from revops.report.data import read_report_data
from revops.report.tiles import build_tiles
from tests.mf_support import make_mf_project, mf_query, same


@pytest.fixture(scope="module")
def cli_rows(xs_published) -> list[tuple[dt.date, dict[str, tuple]]]:
    """What `revops demo` printed, as the CLI reads it (newest first)."""
    con = connect_read_only(Path(xs_published["serving"]) / SERVING_FILE)
    try:
        return h.read_headlines(con, 6)
    finally:
        con.close()


def test_every_surface_uses_the_one_list():
    # The report's tiles are the headline entries, in order, under the same labels and columns.
    assert [key for key, _ in d.TILES] == [x.key for x in h.HEADLINES]
    for key, definition in d.TILES:
        entry = h.BY_KEY[key]
        assert definition.name == entry.label, key
        assert entry.column in definition.columns, key
    # Distinct names: no two entries share a label, a column or a semantic metric.
    assert len({x.label for x in h.HEADLINES}) == len(h.HEADLINES)
    assert len({x.column for x in h.HEADLINES}) == len(h.HEADLINES)
    metrics = [m for x in h.HEADLINES for m in x.semantic_metrics]
    assert len(set(metrics)) == len(metrics) and None not in metrics
    # Monthly and trailing-12-month retention say which they are.
    for entry in h.HEADLINES:
        if entry.label.startswith(("NRR", "GRR")):
            assert ("monthly" in entry.label) != ("trailing 12 months" in entry.label), entry


def test_cli_headline_reads_the_marts(xs_published, cli_rows):
    assert len(cli_rows) == 6
    served = Path(xs_published["serving"]) / SERVING_FILE
    con = duckdb.connect(str(served), read_only=True)
    try:
        for month, values in cli_rows:
            for entry in h.HEADLINES:
                column, value = values[entry.key]
                mart, name = column.split(".")
                (expected,) = con.execute(
                    f"select {name} from {mart} where segment = 'All' and month = ?", [month]
                ).fetchone()
                assert value == expected, (month, entry.key)
                if entry.flag:
                    (flag,) = con.execute(
                        f"select {entry.flag[0]} from {mart} where segment = 'All' and month = ?",
                        [month],
                    ).fetchone()
                    assert (entry.key in values[h.FLAGGED]) == (flag is True), (month, entry.key)
    finally:
        con.close()
    # The table printed carries each label and the newest month's formatted values.
    text = re.sub(r"\s+", " ", xs_published["output"])
    newest = cli_rows[0][1]
    for entry in h.HEADLINES:
        assert entry.label in text, entry.label
    # A flagged value (CLTV at the lifetime cap) is marked and the mark explained.
    if any(values[h.FLAGGED] for _, values in cli_rows):
        assert "* CLTV: lifetime capped at cltv_max_months" in text
    for key in ("mrr", "arr", "trailing_12m_nrr", "monthly_nrr", "close_rate", "mqls"):
        entry = h.BY_KEY[key]
        assert h.format_value(newest[key][1], entry.unit, "USD") in text, key
    # Cost metrics are of the latest complete month, named, never another basis (issue 17).
    complete = h.complete_months(cli_rows)
    for entry in h.HEADLINES:
        if entry.month == h.LATEST_COMPLETE and complete:
            month = h.month_for(entry, cli_rows[0][0], complete)
            value = h.format_value(dict(cli_rows)[month][entry.key][1], entry.unit, "USD")
            assert f"{entry.label}, latest complete month {month:%Y-%m}: {value}" in text


def test_report_tiles_equal_the_cli_headline(xs_published, cli_rows):
    data = read_report_data(Path(xs_published["serving"]) / SERVING_FILE)
    by_month = dict(cli_rows)
    assert data.report_month in by_month
    checked = 0
    for tile in build_tiles(data):
        entry = h.BY_KEY[tile.key]
        month = h.month_for(entry, data.report_month, h.complete_months(cli_rows))
        assert month is not None, tile.key
        column, value = by_month[month][tile.key]
        assert tile.column == column, tile.key
        assert tile.value == (float(value) if isinstance(value, Decimal) else value), tile.key
        checked += tile.value is not None
    assert checked >= len(h.HEADLINES) - 1


def test_mf_query_equals_the_headline(xs_published, cli_rows, tmp_path_factory):
    # MetricFlow opens the warehouse for writing: on a copy, since the demo is shared with the
    # other worker's readers (tests/conftest.py, `_built_once`)
    warehouse = tmp_path_factory.mktemp("mf_xs_warehouse") / Path(xs_published["warehouse"]).name
    shutil.copyfile(xs_published["warehouse"], warehouse)
    project = make_mf_project(warehouse, tmp_path_factory.mktemp("mf_xs"))
    metrics = sorted({m for x in h.HEADLINES for m in x.semantic_metrics if m})
    rows = mf_query(project, metrics, ["metric_time__month"])
    got = {dt.date.fromisoformat(row["metric_time__month"][:10]): row for row in rows}
    checked = 0
    for month, values in cli_rows:
        for entry in h.HEADLINES:
            column, value = values[entry.key]
            metric = h.semantic_metric(entry, column)
            assert same(got[month][metric], value), (month, entry.key, got[month][metric], value)
            checked += value is not None
    assert checked >= 6 * (len(h.HEADLINES) - 1)
