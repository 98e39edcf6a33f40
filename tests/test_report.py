"""The HTML report (revops.report) on the `xs` company: its numbers equal the marts, it makes no
network reference, and headless Chromium renders every chart without a console error.

The serving file is the one `revops demo` publishes (the `xs_published` fixture).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import re
import shutil
import struct
import subprocess
import threading
import time
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from revops import publish
from revops.report import ReportResult, build_report
from revops.report import definitions as d
from revops.report.data import DEFAULT_ATTRIBUTION_MODEL
from revops.report.figures import bridge_levels

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
MART_MODELS = sorted(p.stem for p in (ROOT / "models" / "marts").rglob("*.sql"))


# --- the serving file -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def xs_serving(xs_published) -> Path:
    """The xs company refreshed and published by `revops demo` (tests/conftest.py)."""
    return xs_published["serving"] / "revops.duckdb"


@pytest.fixture(scope="module")
def report(xs_serving: Path) -> ReportResult:
    return build_report(xs_serving, xs_serving.with_name("report.html"))


@pytest.fixture(scope="module")
def page(report: ReportResult) -> str:
    return report.path.read_text(encoding="utf-8")


# --- reading the page back ------------------------------------------------------------------


class _Scripts(HTMLParser):
    """JSON script blocks by id / data-target, and every src/href attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: dict[str, str] = {}
        self.links: list[tuple[str, str, str]] = []
        self._current: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("src", "href", "data", "action", "srcset", "poster"):
            if attributes.get(name):
                self.links.append((tag, name, attributes[name] or ""))
        if tag == "script" and attributes.get("type") == "application/json":
            self._current = attributes.get("id") or attributes.get("data-target")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.blocks[self._current] = "".join(self._text)
            self._current = None


@pytest.fixture(scope="module")
def parsed(page: str) -> _Scripts:
    parser = _Scripts()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def report_data(parsed: _Scripts) -> dict[str, Any]:
    return json.loads(parsed.blocks["report-data"])


def _figure(parsed: _Scripts, figure_id: str) -> dict[str, Any]:
    return json.loads(parsed.blocks[figure_id])


def _sql(serving: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))


# --- structure and numbers ------------------------------------------------------------------


def test_report_result_and_sections(report: ReportResult, page: str, report_data):
    assert report.path.name == "report.html" and report.bytes == report.path.stat().st_size
    assert report.sections == (
        "freshness",
        "headline",
        "revenue",
        "funnel",
        "sales",
        "forecast",
        "marketing",
        "retention",
        "notes",
    )
    assert report.tiles == tuple(key for key, _ in d.TILES)
    assert report_data["figures"] == list(report.figures) and len(report.figures) == 13
    # The freshness panel comes first on the page, then the tiles.
    assert page.index('id="freshness"') < page.index('id="headline"') < page.index('id="revenue"')
    # plotly.js is inlined exactly once, and every figure has a div and a spec.
    assert page.count("plotly.js v") == 1
    for figure_id in report.figures:
        assert page.count(f'id="{figure_id}"') == 1
        assert f'data-target="{figure_id}"' in page


def test_no_external_references(parsed: _Scripts, page: str):
    external = [link for link in parsed.links if re.match(r"\s*(https?:)?//", link[2])]
    assert not external
    assert all(value.startswith("#") for _, _, value in parsed.links), parsed.links
    # No fonts or style sheets fetched by CSS either.
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", page)


def test_freshness_equals_the_metadata(xs_serving: Path, report_data, page: str):
    snapshot = _sql(
        xs_serving, "select snapshot_id, published_at, latest_delivery_date from revops_snapshot"
    )
    assert report_data["snapshot"]["snapshot_id"] == snapshot[0][0]
    assert snapshot[0][0] == publish.served_snapshot_id(xs_serving.parent)
    assert report_data["snapshot"]["published_at"] == snapshot[0][1].isoformat()
    assert report_data["snapshot"]["latest_delivery_date"] == snapshot[0][2].isoformat()
    assert snapshot[0][1].strftime("%Y-%m-%d %H:%M:%S") in page
    rows = _sql(
        xs_serving,
        "select source, object, latest_delivery_date, files_loaded, files_failed, rows_loaded, "
        "rows_rejected, status from revops_sources order by source, object",
    )
    got = [
        (
            s["source"],
            s["object"],
            s["latest_delivery_date"],
            s["files_loaded"],
            s["files_failed"],
            s["rows_loaded"],
            s["rows_rejected"],
            s["status"],
        )
        for s in report_data["sources"]
    ]
    assert got == [(*r[:2], _iso(r[2]) if r[2] else None, *r[3:]) for r in rows]
    assert report_data["rows_rejected"] == sum(r[6] for r in rows)
    assert 'id="freshness-status">All ' in page  # the clean xs company: every object ok


def test_tiles_equal_the_marts(xs_serving: Path, report_data, page: str):
    month = _sql(xs_serving, "select max(month) from revops_metrics where segment = 'All'")[0][0]
    assert report_data["report_month"] == month.isoformat()
    revops = (
        "trailing_12m_net_revenue_retention_rate, trailing_12m_gross_revenue_retention_rate, "
        "monthly_net_revenue_retention_rate, monthly_gross_revenue_retention_rate"
    )
    sales = "close_rate, avg_sales_cycle_days, mqls, cltv"
    # Cost tiles: fully loaded, for the latest complete month and the month before it.
    complete = _sql(
        xs_serving,
        "select max(month) from sales_ops_metrics where segment = 'All' and is_complete",
    )[0][0]
    assert complete is not None and complete <= month
    for key in ("cac", "ltv_to_cac"):
        tile = report_data["tiles"][key]
        assert tile["month"] == complete.isoformat(), (key, tile["month"])
        assert tile["column"] == f"sales_ops_metrics.{'cac_fully_loaded' if key == 'cac' else key}"
    checked = 0
    for offset, field in ((0, "value"), (1, "previous")):
        r = _sql(
            xs_serving,
            f"select mrr, arr, {revops}, logo_churn_rate, mrr_growth_mom from revops_metrics "
            "where segment = 'All' and month = ? - to_months(?)",
            [month, offset],
        )[0]
        s = _sql(
            xs_serving,
            f"select {sales} from sales_ops_metrics "
            "where segment = 'All' and month = ? - to_months(?)",
            [month, offset],
        )[0]
        c = _sql(
            xs_serving,
            "select cac_fully_loaded, ltv_to_cac from sales_ops_metrics "
            "where segment = 'All' and month = ? - to_months(?)",
            [complete, offset],
        )[0]
        expected = {
            "mrr": r[0],
            "arr": r[1],
            "trailing_12m_nrr": r[2],
            "trailing_12m_grr": r[3],
            "monthly_nrr": r[4],
            "monthly_grr": r[5],
            "logo_churn": r[6],
            "close_rate": s[0],
            "sales_cycle": s[1],
            "cac": c[0],
            "ltv_to_cac": c[1],
            "mqls": s[2],
            "cltv": s[3],
        }
        for key, value in expected.items():
            tile = report_data["tiles"][key]
            assert _close(tile[field], _num(value)), (key, field, tile[field], value)
            checked += value is not None
        if offset == 0:
            assert _close(report_data["tiles"]["mrr"]["growth"], r[7])
    assert checked >= 24
    # The page shows the MRR tile as a whole number of dollars.
    mrr = report_data["tiles"]["mrr"]["value"]
    assert re.search(rf'id="tile-mrr".*?\${mrr:,.0f}<', page, re.S)


def test_mrr_figures_equal_mrr_by_month(xs_serving: Path, parsed: _Scripts):
    rows = _sql(xs_serving, "select month, segment, mrr from mrr_by_month")
    mart = {(m.isoformat(), s): float(v) for m, s, v in rows}
    figure = _figure(parsed, "fig-mrr-by-segment")
    names = {"All customers": "All"}
    seen = 0
    for trace in figure["data"]:
        segment = names.get(trace["name"], trace["name"])
        for x, y in zip(trace["x"], trace["y"], strict=True):
            assert mart[(x, segment)] == y, (x, segment)
            seen += 1
    assert seen == len(mart)

    bridge = _sql(
        xs_serving,
        "select month, starting_mrr, new_mrr, reactivation_mrr, expansion_mrr, "
        "contraction_mrr, churn_mrr, fx_mrr, mrr from mrr_by_month where segment = 'All' "
        "order by month",
    )
    waterfall = _figure(parsed, "fig-mrr-waterfall")["data"]
    assert len(waterfall) == len(bridge)
    for trace, row in zip(waterfall, bridge, strict=True):
        assert trace["y"] == [
            float(v) * sign for v, sign in zip(row[1:], (1, 1, 1, 1, -1, -1, 1, 1), strict=True)
        ]
        assert trace["measure"][0] == trace["measure"][-1] == "absolute"
    assert sum(bool(t["visible"]) for t in waterfall) == 1
    assert waterfall[-1]["visible"] is True  # the report month is shown first
    # The y axis starts near the month's MRR, not at 0 (a broken axis, labelled), and the
    # month menu switches the range and the label with the bars.
    layout = _figure(parsed, "fig-mrr-waterfall")["layout"]
    (menu,) = layout["updatemenus"]
    assert len(menu["buttons"]) == len(bridge)
    for button, trace in zip(menu["buttons"], waterfall, strict=True):
        levels = bridge_levels(trace["y"])
        bottom, top = button["args"][1]["yaxis.range"]
        assert bottom <= min(levels) and top >= max(levels)
        if bottom > 0:  # broken: the label says where the axis starts
            assert "Axis broken" in button["args"][1]["annotations[0].text"]
        else:
            assert button["args"][1]["annotations[0].text"] == ""
    last = menu["buttons"][-1]["args"][1]
    assert layout["yaxis"]["range"] == last["yaxis.range"]
    assert layout["annotations"][0]["text"] == last["annotations[0].text"]
    starting = float(bridge[-1][1])
    assert 0.5 * starting < layout["yaxis"]["range"][0] <= min(bridge_levels(waterfall[-1]["y"]))
    assert "Axis broken" in layout["annotations"][0]["text"]

    movements = {t["name"]: t for t in _figure(parsed, "fig-mrr-movements")["data"]}
    assert movements["Churn"]["y"] == [-float(r[6]) for r in bridge]
    net = _sql(
        xs_serving, "select net_new_mrr from mrr_by_month where segment = 'All' order by month"
    )
    assert movements["Net new MRR (FX-neutral)"]["y"] == [float(r[0]) for r in net]
    assert movements["FX"]["y"] == [float(r[7]) for r in bridge]


def test_funnel_figures_equal_sales_ops_metrics(xs_serving: Path, parsed: _Scripts):
    rows = _sql(
        xs_serving,
        "select month, cohort_leads, cohort_reached_mql, cohort_reached_sql, "
        "cohort_reached_opportunity, cohort_reached_won, pct_leads_to_mql, pct_leads_to_sql, "
        "pct_leads_to_opportunity, pct_leads_to_won from sales_ops_metrics "
        "where segment = 'All' order by month",
    )
    funnels = _figure(parsed, "fig-funnel-cohort")["data"]
    assert len(funnels) == len(rows)
    for trace, row in zip(funnels, rows, strict=True):
        assert trace["x"] == list(row[1:6])
        assert trace["y"] == ["Leads", "MQL", "SQL", "Opportunity", "Won"]
    # It opens on the latest cohort with leads at least 6 months (the setting's default)
    # before the report month, the latest month of revops_metrics.
    ((report_month,),) = _sql(xs_serving, "select max(month) from revops_metrics")
    ((mature,),) = _sql(
        xs_serving,
        "select max(month) from sales_ops_metrics where segment = 'All' and cohort_leads > 0 "
        "and month <= ? - interval 6 month",
        [report_month],
    )
    (shown,) = [trace for trace in funnels if trace["visible"]]
    assert shown["name"] == mature.strftime("%b %Y")
    assert mature < report_month and shown["x"][-1] > 0
    rates = _figure(parsed, "fig-funnel-rates")["data"]
    for i, trace in enumerate(rates):
        assert trace["x"] == [r[0].isoformat() for r in rows]
        assert all(_close(a, b) for a, b in zip(trace["y"], (r[6 + i] for r in rows), strict=True))


def test_sales_figures_equal_the_marts(xs_serving: Path, parsed: _Scripts):
    segments = _figure(parsed, "fig-win-rate-segment")["data"]
    mart = {
        (m.isoformat(), s): (c, a)
        for m, s, c, a in _sql(
            xs_serving,
            "select month, segment, close_rate, avg_sales_cycle_days from sales_ops_metrics",
        )
    }
    checked = 0
    for trace in segments:
        column = 0 if trace.get("yaxis", "y") == "y" else 1
        for x, y in zip(trace["x"], trace["y"], strict=True):
            assert _close(y, mart[(x, trace["name"])][column]), (trace["name"], x)
            checked += y is not None
    assert checked > 20

    reps = _figure(parsed, "fig-win-rate-rep")["data"]
    titles = "case title when 'Account Executive' then 'AE' else 'SDR' end"
    names = dict(
        _sql(xs_serving, f"select rep_name || ' (' || {titles} || ')', rep_id from dim_reps")
    )
    # Trailing three months: the numerators and denominators summed over the window, then
    # divided (rep_performance's documented re-aggregation), here in SQL.
    cells = {
        (rep, m.isoformat()): (c, a)
        for rep, m, c, a in _sql(
            xs_serving,
            """
            select
                rep_id,
                month_start_date,
                sum(opportunities_won) over w / nullif(sum(opportunities_closed) over w, 0),
                sum(won_sales_cycle_days) over w / nullif(sum(opportunities_won) over w, 0),
            from rep_performance
            window w as (
                partition by rep_id order by month_start_date
                range between interval 2 month preceding and current row
            )
            """,
        )
    }
    closers = _sql(
        xs_serving,
        "select count(distinct rep_id) from rep_performance where opportunities_closed > 0",
    )[0][0]
    assert len(reps[0]["y"]) == closers > 0
    for column, trace in enumerate(reps):
        for label, z_row in zip(trace["y"], trace["z"], strict=True):
            for x, z in zip(trace["x"], z_row, strict=True):
                assert _close(z, cells[(names[label], x)][column]), (label, x)


def test_channel_figure_is_the_documented_rollup(xs_serving: Path, parsed: _Scripts, report_data):
    model = DEFAULT_ATTRIBUTION_MODEL
    assert report_data["attribution_model"] == model
    rows = _sql(
        xs_serving,
        f"select month_start_date, channel, sum(cost_reporting), sum(leads), "
        f"sum(attributed_won_{model}), bool_and(is_complete) from channel_performance "
        "group by all",
    )
    mart = {(m.isoformat(), c): (s, n, w, k) for m, c, s, n, w, k in rows}
    traces = _figure(parsed, "fig-channels")["data"]
    costed = {c for (_, c), (s, _, _, _) in mart.items() if s > 0}
    assert "events" in costed  # events are costed from expenses (issue 17), not shown at 0
    assert {t["name"] for t in traces} == costed
    for trace in traces:
        axis = trace.get("yaxis", "y")
        for x, y in zip(trace["x"], trace["y"], strict=True):
            cost, leads, won, complete = mart[(x, trace["name"])]
            if axis == "y":
                assert y == float(cost)
            elif axis == "y2":
                assert _close(y, cost / leads if leads and complete else None)
            else:
                assert _close(y, won / cost if cost and complete else None)
    # The total cost equals the company's ad spend and events expenses (sales_ops_metrics).
    total = sum(y for t in traces if t.get("yaxis", "y") == "y" for y in t["y"])
    cost = _sql(
        xs_serving,
        "select sum(ad_spend) + sum(coalesce(event_expenses, 0)) from sales_ops_metrics "
        "where segment = 'All'",
    )
    assert abs(total - float(cost[0][0])) < 0.01


def test_nrr_heatmap_equals_mrr_by_month(xs_serving: Path, parsed: _Scripts):
    mart = {
        (m.isoformat(), s): (t, n)
        for m, s, t, n in _sql(
            xs_serving,
            "select month, segment, trailing_12m_net_revenue_retention_rate, "
            "monthly_net_revenue_retention_rate from mrr_by_month",
        )
    }
    trailing, monthly = _figure(parsed, "fig-nrr-heatmap")["data"]
    order = ["All", "SMB", "Mid-Market", "Enterprise", "Unknown"]
    for column, trace in enumerate((trailing, monthly)):
        # a segment's row is drawn when it has a value in some month of the map
        with_values = [
            s for s in order if any(mart[(x, s)][column] is not None for x in trace["x"])
        ]
        assert trace["y"] == with_values
        for segment, z_row in zip(trace["y"], trace["z"], strict=True):
            for x, z in zip(trace["x"], z_row, strict=True):
                assert _close(z, mart[(x, segment)][column]), (segment, x)
        # colours span the drawn values (and 100%), not a range symmetric around 100%
        values = [z for z_row in trace["z"] for z in z_row if z is not None]
        assert _close(trace["zmin"], min(*values, 1.0)) and _close(trace["zmax"], max(*values, 1.0))
        assert "zmid" not in trace
    assert any(z is not None for z in trailing["z"][0])


def test_cohort_heatmap_equals_mrr_cohort_retention(xs_serving: Path, parsed: _Scripts):
    mart = {
        (c.isoformat(), age): rate
        for c, age, rate in _sql(
            xs_serving,
            "select cohort_month, months_since_cohort, net_revenue_retention_rate "
            "from mrr_cohort_retention where segment = 'All'",
        )
    }
    (trace,) = _figure(parsed, "fig-cohort-nrr")["data"]
    cells = 0
    for cohort, z_row in zip(trace["y"], trace["z"], strict=True):
        for age, z in zip(trace["x"], z_row, strict=True):
            assert _close(z, mart.get((cohort, age))), (cohort, age)
            cells += z is not None
    assert cells == len(mart) > 0
    # the cohort month itself is 100% by definition
    assert all(_close(row[0], 1.0) for row in trace["z"])
    # the colour scale spans the cells, never below the lowest (issue 19: it ran from -50%)
    rates = [rate for rate in mart.values() if rate is not None]
    assert _close(trace["zmin"], min(rates)) and _close(trace["zmax"], max(rates))
    assert trace["zmin"] >= 0


def test_every_figure_names_its_metric_definition(report: ReportResult, page: str):
    for figure_id in report.figures:
        heading = page[page.index(f'id="{figure_id}-card"') : page.index(f'id="{figure_id}"')]
        definition = re.search(r'class="definition"><strong>(.+?):</strong>', heading)
        assert definition, figure_id
        assert definition.group(1) in {m.name for m in d.ALL_DEFINITIONS}, figure_id
        assert "docs/METRICS.md \u00a7" in heading, figure_id


def test_definitions_point_at_real_sections_and_columns():
    headings = {
        line.lstrip("#").strip()
        for line in (ROOT / "docs" / "METRICS.md").read_text().splitlines()
        if line.startswith("#")
    }
    columns: set[str] = set()
    for path in (ROOT / "models" / "marts").rglob("_*__models.yml"):
        for model in yaml.safe_load(path.read_text())["models"]:
            columns |= {f"{model['name']}.{c['name']}" for c in model.get("columns", [])}
    for definition in d.ALL_DEFINITIONS:
        assert definition.section in headings, definition.name
        for column in definition.columns:
            if "<model>" in column:
                column = column.replace("<model>", DEFAULT_ATTRIBUTION_MODEL)
            assert column in columns, (definition.name, column)


def test_failed_and_missing_sources_are_flagged(xs_serving: Path, tmp_path: Path):
    serving = tmp_path / "revops.duckdb"
    shutil.copy(xs_serving, serving)
    con = duckdb.connect(str(serving))
    con.execute(
        "update revops_sources set status = 'failed', files_failed = 2, rows_rejected = 7 "
        "where source = 'stripe' and object = 'invoices'"
    )
    con.execute("update revops_sources set status = 'missing' where object = 'quotas'")
    con.close()
    result = build_report(serving, tmp_path / "report.html")
    page = result.path.read_text()
    banner = re.search(r'id="freshness-status">(.*?)</div>', page).group(1)
    assert "2 of " in banner and "stripe/invoices (failed)" in banner
    assert "reference/quotas (missing)" in banner
    assert "<details open>" in page


def test_open_failed_files_are_named_in_a_banner(xs_serving: Path, tmp_path: Path):
    """The failed-file policy: the snapshot was published without the open failed files
    (`revops_failed_files`); the freshness section names each, escaped; none, no banner."""
    serving = tmp_path / "revops.duckdb"
    shutil.copy(xs_serving, serving)
    plain = build_report(serving, tmp_path / "plain.html").path.read_text()
    assert 'id="failed-files-status"' not in plain
    con = duckdb.connect(str(serving))
    con.execute(
        "insert into revops_failed_files values ('salesforce', 'Lead', "
        "'salesforce/Lead/2025-03-01/Lead<b>.csv', 'missing required column(s) Id (the header "
        "is semicolon-delimited; the contract requires commas)', timestamp '2025-03-01 06:00:00')"
    )
    con.close()
    page = build_report(serving, tmp_path / "report.html").path.read_text()
    banner = re.search(r'id="failed-files-status">(.*?)</div>', page, re.S).group(1)
    assert banner.startswith("1 delivery file(s) failed to load and are not in these numbers")
    assert "<code>salesforce/Lead/2025-03-01/Lead&lt;b&gt;.csv</code>" in banner
    assert "semicolon-delimited" in banner and "2025-03-01 06:00:00 UTC" in banner
    assert page.index('id="failed-files-status"') < page.index('id="sources-summary"')
    assert 'id="latest-refresh"' not in page  # published: not a failed refresh


def test_run_checks_and_a_failed_latest_refresh_are_shown(xs_serving: Path, tmp_path: Path):
    """The snapshot's warnings (revops_checks) in the freshness section; a refresh that did not
    publish opens the page, while every number stays the served snapshot's."""
    serving = tmp_path / "revops.duckdb"
    shutil.copy(xs_serving, serving)
    plain = build_report(serving, tmp_path / "plain.html").path.read_text()
    assert 'id="checks-status">' in plain and 'id="latest-refresh"' not in plain
    con = duckdb.connect(str(serving))
    con.execute("delete from revops_checks")
    con.execute(
        "insert into revops_checks values ('assert_few_exclusions', 'warn', 'warn', "
        "'Exclusions remove less than 20% of leads.', 31, null, null, "
        '\'[{"email_domain": "example.com", "leads": "31"}]\')'
    )
    con.close()
    failure = {
        "run_id": "run-2",
        "recorded_at": "2026-01-02T06:00:00+00:00",
        "checks": [
            {"name": "not_null_x_id", "status": "fail", "severity": "error",
             "meaning": "not_null: x.id must not be empty", "failures": 3,
             "samples": [{"id": None, "name": "<b>a</b>"}], "sample_error": None,
             "message": None},
        ],
        "errors": ["revops_dbt_models: dbt failed"],
    }  # fmt: skip
    result = build_report(serving, tmp_path / "failed.html", failed_refresh=failure)
    page = result.path.read_text()
    assert result.sections[0] == "latest-refresh"
    assert page.index('id="latest-refresh"') < page.index('id="freshness"')
    failed = re.search(r'<table id="failed-checks">(.*?)</table>', page, re.S).group(1)
    assert "not_null_x_id" in failed and "not_null: x.id must not be empty" in failed
    assert '<td class="num">3</td>' in failed and "name=&lt;b&gt;a&lt;/b&gt;" in failed
    assert "revops_dbt_models: dbt failed" in page
    warned = re.search(r'<table id="checks">(.*?)</table>', page, re.S).group(1)
    assert "assert_few_exclusions" in warned and "email_domain=example.com, leads=31" in warned
    data = json.loads(re.search(r'id="report-data">(.*?)</script>', page, re.S).group(1))
    assert data["failed_refresh"]["run_id"] == "run-2"
    assert data["checks"][0]["check_name"] == "assert_few_exclusions"
    # the numbers are the served snapshot's either way
    assert (
        data["tiles"]
        == json.loads(re.search(r'id="report-data">(.*?)</script>', plain, re.S).group(1))["tiles"]
    )


# --- headless Chromium ----------------------------------------------------------------------


def _high_fd(fd: int) -> int:
    """The same pipe end on a descriptor number of 10 or more (the original is closed)."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class _Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4), stdlib only."""

    def __init__(self, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # The child's ends move above fd 9 (close-on-exec) so that putting them on 3 and 4
        # cannot clobber one with the other; everything else Python opens is not inherited.
        child_in, child_out = _high_fd(to_chrome_r), _high_fd(from_chrome_w)

        def on_fds_3_and_4() -> None:
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            # Any host name fails to resolve, so a stray request could not reach anything.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
        ]
        self.proc = subprocess.Popen(
            [str(CHROMIUM), *flags],
            close_fds=False,
            preexec_fn=on_fds_3_and_4,  # before the reader thread starts
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(child_in)
        os.close(child_out)
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._from_chrome, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                for message in messages:
                    self._inbox.put(json.loads(message))
        self._inbox.put(None)

    def _pump(self, timeout: float) -> None:
        message = self._inbox.get(timeout=timeout)
        if message is None:
            raise RuntimeError("chromium closed the DevTools pipe")
        if "id" in message:
            self._replies[message["id"]] = message
        else:
            self.events.append(message)

    def send(self, method: str, session: str | None = None, timeout: float = 60, **params):
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while self._next_id not in self._replies:
            self._pump(max(0.01, deadline - time.monotonic()))
        reply = self._replies.pop(self._next_id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def wait_for(self, predicate, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("chromium did not get there in time")
            with contextlib.suppress(queue.Empty):
                self._pump(min(remaining, 0.5))

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError, queue.Empty):
            self.send("Browser.close", timeout=10)  # best effort: killed below if it hangs
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)


def _png_pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and pixel rows (RGB or RGBA bytes) of an 8-bit PNG; zlib + struct only."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        body = png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def _colours(png: bytes) -> tuple[int, float]:
    """Distinct colours and the share of pixels that are not the most common colour."""
    width, height, rows = _png_pixels(png)
    channels = len(rows[0]) // width
    counts: dict[bytes, int] = {}
    for row in rows:
        for x in range(0, len(row), channels):
            pixel = row[x : x + 3]
            counts[pixel] = counts.get(pixel, 0) + 1
    return len(counts), 1 - max(counts.values()) / (width * height)


_PROBE = """
(() => {
  const charts = Array.from(document.querySelectorAll('.chart')).map(div => {
    const box = div.getBoundingClientRect();
    return {
      id: div.id,
      plotly: div.classList.contains('js-plotly-plot'),
      svgs: div.querySelectorAll('.main-svg').length,
      // a table figure (go.Table) draws its cells in g.table-control-view
      traces: div.querySelectorAll('.trace, .hm, g.heatmaplayer image, g.table-control-view')
        .length,
      x: box.left + window.scrollX, y: box.top + window.scrollY,
      width: box.width, height: box.height,
    };
  });
  const links = Array.from(document.querySelectorAll('[src], [href]'))
    .map(el => el.getAttribute('src') || el.getAttribute('href'))
    .filter(v => /^\\s*(https?:)?\\/\\//i.test(v));
  const resources = performance.getEntriesByType('resource').map(e => e.name);
  return JSON.stringify({charts, links, resources});
})()
"""


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs /usr/bin/chromium (Debian's chromium package; .ci/run installs it)",
)
def test_chromium_renders_every_chart_offline(report: ReportResult, tmp_path: Path):
    browser = _Browser(tmp_path / "profile")
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            browser.send(f"{domain}.enable", session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=1280,
            height=1000,
            deviceScaleFactor=1,
            mobile=False,
        )
        url = report.path.resolve().as_uri()
        browser.send("Page.navigate", session, url=url)
        browser.wait_for(lambda: any(e["method"] == "Page.loadEventFired" for e in browser.events))

        def rendered() -> bool:
            result = browser.send(
                "Runtime.evaluate",
                session,
                expression="document.documentElement.getAttribute('data-charts-rendered')",
                returnByValue=True,
            )["result"]
            return result.get("value") is not None

        deadline = time.monotonic() + 60
        while not rendered():
            assert time.monotonic() < deadline, "charts did not finish rendering"
            time.sleep(0.25)
        probe = json.loads(
            browser.send("Runtime.evaluate", session, expression=_PROBE, returnByValue=True)[
                "result"
            ]["value"]
        )
        screenshot = base64.b64decode(
            browser.send("Page.captureScreenshot", session, format="png")["data"]
        )
        chart_shots = {
            chart["id"]: base64.b64decode(
                browser.send(
                    "Page.captureScreenshot",
                    session,
                    format="png",
                    captureBeyondViewport=True,
                    clip={
                        "x": chart["x"],
                        "y": chart["y"],
                        "width": chart["width"],
                        "height": chart["height"],
                        "scale": 0.25,
                    },
                )["data"]
            )
            for chart in probe["charts"]
        }
        # Drain what arrived while probing, so late console errors are seen too.
        with contextlib.suppress(TimeoutError):
            browser.wait_for(lambda: False, timeout=0.5)
    finally:
        browser.close()
    (report.path.parent / "report.png").write_bytes(screenshot)

    errors = [
        e["params"]
        for e in browser.events
        if e["method"] == "Runtime.exceptionThrown"
        or (
            e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert")
        )
        or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert not errors, errors[:3]
    requests = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e["method"] == "Network.requestWillBeSent"
    ]
    assert requests and all(r == url or r.startswith("data:") for r in requests), requests
    assert not probe["resources"] and not probe["links"], probe

    assert [c["id"] for c in probe["charts"]] == list(report.figures)
    for chart in probe["charts"]:
        assert chart["plotly"] and chart["svgs"] >= 1 and chart["traces"] >= 1, chart
        assert chart["width"] > 300 and chart["height"] > 200, chart
        colours, ink = _colours(chart_shots[chart["id"]])
        assert colours > 20 and ink > 0.02, (chart["id"], colours, ink)
    colours, ink = _colours(screenshot)
    assert colours > 50 and ink > 0.1, (colours, ink)


def test_open_quarantined_rows_are_listed_bounded(xs_serving: Path, tmp_path: Path):
    """The quarantine section: the open cells (file, row, column, value, rule), at most
    QUARANTINE_ROWS of them with the count of all; released ones are not listed."""
    from revops.report.data import QUARANTINE_ROWS

    serving = tmp_path / "revops.duckdb"
    shutil.copy(xs_serving, serving)
    clean = build_report(serving, tmp_path / "clean.html").path.read_text()
    assert 'id="quarantine-status">No delivered row is held back' in clean
    con = duckdb.connect(str(serving))
    con.execute(
        """
        insert into data_quality_quarantine
        select 'salesforce', 'Lead', 'salesforce/Lead/2025-03-01/Lead.csv', 'sha', 'CreatedDate',
            case when i = 1 then '<b>yesterday</b>' else 'bad ' || i end, 'cast:timestamp',
            'not an ISO 8601 timestamp', 'Id-' || i, null, i, null, false
        from range(1, 61) as t(i)
        """
    )
    con.execute(
        "insert into data_quality_quarantine values ('stripe', 'customers', 'x.jsonl', 'sha', "
        "'created', 'soon', 'cast:unix_time', 'm', 'cus_1', 'y.jsonl', 1, 1, true)"
    )
    con.close()
    page = build_report(serving, tmp_path / "report.html").path.read_text()
    status = re.search(r'id="quarantine-status">(.*?)</p>', page).group(1)
    assert status.startswith("60 value(s)") and f"The first {QUARANTINE_ROWS} are listed" in status
    table = re.search(r'<table id="quarantine">(.*?)</table>', page, re.S).group(1)
    assert table.count("<tr>") == QUARANTINE_ROWS + 1  # the header row, then the cells
    assert "salesforce/Lead/2025-03-01/Lead.csv" in table and "CreatedDate" in table
    assert "&lt;b&gt;yesterday&lt;/b&gt;" in table and "cast:timestamp" in table
    assert "x.jsonl" not in table  # released
    data = json.loads(re.search(r'id="report-data">(.*?)</script>', page, re.S).group(1))
    assert data["quarantine"]["open"] == 60


def test_forecast_figures_are_the_forecast_marts(parsed: _Scripts, xs_serving: Path):
    """Forecast vs actual: per ended quarter, the actual and each method's forecast made 30
    days before quarter end (forecast_accuracy, All); the call: the current quarter's closed
    won and open amounts by category per segment and All (forecast_call); the accuracy table:
    forecast_accuracy_by_method's All rows."""
    versus = _figure(parsed, "fig-forecast-vs-actual")["data"]
    assert [t["name"] for t in versus] == [
        "Actual", "Weighted pipeline", "Historical conversion", "Run-rate"
    ]  # fmt: skip
    rows = _sql(
        xs_serving,
        "select method, strftime(period_start, '%Y-%m-%d'), forecast_total, actual_bookings "
        "from forecast_accuracy where segment = 'All' and period_grain = 'quarter' "
        "and horizon_days = 30",
    )
    assert len(rows) >= 3 * 8
    quarters = [x[:10] for x in versus[0]["x"]]
    actual = {q: a for _, q, _, a in rows}
    assert quarters == sorted(actual)
    assert all(_close(y, actual[q]) for q, y in zip(quarters, versus[0]["y"], strict=True))
    for trace, method in zip(
        versus[1:], ("weighted_pipeline", "historical_conversion", "run_rate"), strict=True
    ):
        expected = {q: f for m, q, f, _ in rows if m == method}
        got = dict(zip([x[:10] for x in trace["x"]], trace["y"], strict=True))
        assert all(_close(got[q], expected.get(q)) for q in quarters), method
    call = _figure(parsed, "fig-forecast-call")["data"]
    assert [t["name"] for t in call] == ["Closed won", "Commit", "Best case", "Pipeline"]
    expected_call = _sql(
        xs_serving,
        "select rollup_key, closed_won, commit_amount, best_case_amount, pipeline_amount "
        "from forecast_call where period_grain = 'quarter' and rollup_level in ('segment', 'All') "
        "order by rollup_level, rollup_key",
    )
    assert call[0]["x"] == [r[0] for r in expected_call] and "All" in call[0]["x"]
    for i, trace in enumerate(call, start=1):
        assert all(_close(y, r[i]) for y, r in zip(trace["y"], expected_call, strict=True))
    table = _figure(parsed, "fig-forecast-accuracy")["data"][0]
    n = _sql(xs_serving, "select count(*) from forecast_accuracy_by_method where segment = 'All'")
    assert len(table["cells"]["values"][0]) == n[0][0] >= 3 * 2
    assert table["cells"]["values"][8].count("best") >= 3
