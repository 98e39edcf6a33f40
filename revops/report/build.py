"""Write the self-contained HTML report of one published snapshot.

The page inlines plotly.js once, the figures as JSON and a data block
(`<script type="application/json" id="report-data">`) with every tile value and the snapshot
metadata, so it opens from disk with no network and tests can read the numbers back.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from html import escape
from pathlib import Path

import plotly.offline

from revops import freshness, settings
from revops.ingest.summary import SOURCE_OK, SOURCE_OPTIONAL_NOT_DELIVERED
from revops.report import definitions as d
from revops.report.data import DEFAULT_ATTRIBUTION_MODEL, ReportData, plain, read_report_data
from revops.report.figures import CHART_SECTIONS, FigureSpec
from revops.report.tiles import Tile, build_tiles, format_change, format_value

FAILED_REFRESH_SECTION = ("latest-refresh", "Latest refresh did not publish")
FRESHNESS_SECTION = ("freshness", "Data freshness")
HEADLINE_SECTION = ("headline", "Headline metrics")
NOTES_SECTION = ("notes", "Definitions and notes")

# What the marts do not publish yet, so the report does not show it (see docs/REPORT.md).
GAPS = (
    "Cohort NRR by acquisition month (months since first MRR) is not in the marts: the heat "
    "map shows NRR per segment and month as mrr_by_month publishes it.",
    "Step conversion rates (MQL -> SQL, SQL -> opportunity, opportunity -> won) for all "
    "channels and segments together are not published (funnel_conversion has them per channel "
    "x segment only); the funnel shows each stage as a share of the cohort's leads.",
    "channel_performance has no channel-level rows: the channel chart sums a channel's "
    "campaign rows, then divides, as docs/METRICS.md says a BI tool should.",
)

_CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #e3e6ec; --bg: #f6f7f9;
  --good: #1f7a4d; --bad: #b3261e; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { background: #1d2330; color: #fff; padding: 14px 28px; }
header h1 { margin: 0; font-size: 20px; font-weight: 600; }
header p { margin: 2px 0 0; color: #c9cfdb; font-size: 13px; }
nav { display: flex; flex-wrap: wrap; gap: 14px; padding: 8px 28px; background: #fff;
  border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 10; }
nav a { color: var(--muted); text-decoration: none; font-size: 13px; }
nav a:hover { color: var(--ink); }
main { max-width: 1240px; margin: 0 auto; padding: 16px 28px 40px; }
section { margin: 0 0 22px; }
h2 { font-size: 17px; margin: 18px 0 8px; }
h3 { font-size: 15px; margin: 0 0 2px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 14px 16px;
  margin-bottom: 14px; }
.banner { padding: 8px 12px; border-radius: 4px; margin-bottom: 10px; font-weight: 500; }
.banner.ok { background: #e6f4ea; color: var(--good); }
.banner.problem { background: #fdecea; color: var(--bad); }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr));
  gap: 6px 18px; margin: 0 0 10px; }
.facts div { font-size: 13px; }
.facts dt { color: var(--muted); font-size: 12px; }
.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 500; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 11.5px; }
.status.optional { background: #f1f3f4; color: #5f6368; }
.status.ok { background: #e6f4ea; color: var(--good); }
.status.failed, .status.missing { background: #fdecea; color: var(--bad); }
.status.fail, .status.error { background: #fdecea; color: var(--bad); }
.status.warn { background: #fff4e0; color: var(--warn); }
.samples { font-family: ui-monospace, monospace; font-size: 11.5px; color: var(--muted); }
details summary { cursor: pointer; color: var(--muted); margin: 8px 0 4px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(215px, 1fr)); gap: 10px; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.tile .name { color: var(--muted); font-size: 12.5px; }
.tile .value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile .change { font-size: 12.5px; }
.tile .change.better { color: var(--good); }
.tile .change.worse { color: var(--bad); }
.tile .change.flat { color: var(--muted); }
.tile .note { font-size: 11.5px; margin-top: 2px; }
.tile .def { color: var(--muted); font-size: 11.5px; margin-top: 4px; }
.definition { color: var(--muted); font-size: 12.5px; margin: 0 0 4px; }
.source { color: var(--muted); font-size: 11.5px; font-family: ui-monospace, monospace; }
.note { color: var(--warn); font-size: 12.5px; margin: 2px 0 0; }
.chart { width: 100%; min-height: 300px; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 12px; }
"""

# Draws every figure from its JSON block; marks the page once all have rendered (tests wait
# for the attribute).
_RENDER_JS = """
(function () {
  var config = {displaylogo: false, responsive: true};
  var specs = document.querySelectorAll('script.figure-spec');
  var drawn = Array.prototype.map.call(specs, function (el) {
    var spec = JSON.parse(el.textContent);
    return Plotly.newPlot(el.getAttribute('data-target'), spec.data, spec.layout, config);
  });
  Promise.all(drawn).then(function () {
    document.documentElement.setAttribute('data-charts-rendered', String(drawn.length));
  });
})();
"""


@dataclass(frozen=True)
class ReportResult:
    """What build_report wrote."""

    path: Path
    bytes: int
    snapshot_id: str | None
    report_month: dt.date
    sections: tuple[str, ...]  # section ids, in page order
    figures: tuple[str, ...]  # figure div ids, in page order
    tiles: tuple[str, ...]


def _json_script(payload: object, **attributes: str) -> str:
    """A JSON payload in a non-executed script tag, safe against `</script>` in strings."""
    text = json.dumps(payload, separators=(",", ":"), default=plain).replace("</", "<\\/")
    attrs = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attributes.items())
    return f'<script type="application/json"{attrs}>{text}</script>'


def _figure_json(spec: FigureSpec) -> str:
    return spec.figure.to_json().replace("</", "<\\/")


def _date(value: object) -> str:
    if value is None:
        return "never"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") + " UTC"
    if isinstance(value, dt.date):
        return value.isoformat()
    return escape(str(value))


def _status_class(status: object) -> str:
    """The CSS class of a source status (`not delivered (optional)` -> `optional`)."""
    return "optional" if status == SOURCE_OPTIONAL_NOT_DELIVERED else escape(str(status))


def _freshness_html(data: ReportData) -> str:
    snap = data.snapshot
    sources = data.sources
    rejects = sum(int(s["rows_rejected"] or 0) for s in sources)
    problems = [s for s in sources if s["status"] not in (SOURCE_OK, SOURCE_OPTIONAL_NOT_DELIVERED)]
    optional = sum(s["status"] == SOURCE_OPTIONAL_NOT_DELIVERED for s in sources)
    not_delivered = f" ({optional} optional object(s) not delivered)" if optional else ""
    if problems:
        listed = ", ".join(
            f"{escape(s['source'])}/{escape(s['object'])} ({escape(s['status'])})" for s in problems
        )
        banner = (
            f'<div class="banner problem" id="freshness-status">'
            f"{len(problems)} of {len(sources)} source objects failed or were not delivered: "
            f"{listed}</div>"
        )
    else:
        banner = (
            f'<div class="banner ok" id="freshness-status">All {len(sources) - optional} '
            f"source objects delivered and loaded{not_delivered}</div>"
        )
    # Freshness against the data (revops/freshness.py): the same rule and words as the CLI.
    stale = [
        freshness.StaleSource(
            f"{s['source']}/{s['object']}", s["latest_delivery_date"], s.get("days_behind")
        )
        for s in sources
        if s.get("is_stale")
    ]
    if stale:
        line = freshness.warning_line(
            stale, snap.get("freshness_as_of"), int(snap.get("max_delivery_age_days") or 0)
        )
        banner += f'<div class="banner problem" id="freshness-stale">{escape(line)}</div>'
    facts = (
        ("Snapshot time", _date(snap.get("published_at"))),
        ("Snapshot", escape(str(snap.get("snapshot_id")))),
        ("Latest delivery", _date(snap.get("latest_delivery_date"))),
        ("Run", escape(str(snap.get("run_id")))),
        (
            "Models / checks passed",
            f"{snap.get('models')} / {snap.get('checks_passed')}"
            + (
                f" ({snap['checks_left_out']:,} left out: unchanged since they passed)"
                if snap.get("checks_left_out")
                else ""
            ),
        ),
        ("Rows rejected", f"{rejects:,}"),
    )
    facts_html = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)

    # One line per source system (its latest delivery and worst status), then every object.
    systems: dict[str, list[dict[str, object]]] = {}
    for s in sources:
        systems.setdefault(str(s["source"]), []).append(s)
    rank = {"ok": 0, SOURCE_OPTIONAL_NOT_DELIVERED: 0, "missing": 1, "failed": 2}
    system_rows = []
    for name, objects in systems.items():
        delivered = [o["latest_delivery_date"] for o in objects if o["latest_delivery_date"]]
        worst = max((str(o["status"]) for o in objects), key=lambda x: rank.get(x, 3))
        worst = "ok" if worst == SOURCE_OPTIONAL_NOT_DELIVERED else worst
        system_rows.append(
            f"<tr><td>{escape(name)}</td><td>{_date(max(delivered) if delivered else None)}</td>"
            f'<td class="num">{sum(o["status"] == "ok" for o in objects)} / '
            f"{sum(o['status'] != SOURCE_OPTIONAL_NOT_DELIVERED for o in objects)}</td>"
            f'<td class="num">{sum(int(o["files_failed"] or 0) for o in objects):,}</td>'
            f'<td class="num">{sum(int(o["rows_rejected"] or 0) for o in objects):,}</td>'
            f'<td><span class="status {escape(worst)}">{escape(worst)}</span></td></tr>'
        )
    object_rows = "".join(
        f"<tr><td>{escape(s['source'])}</td><td>{escape(s['object'])}</td>"
        f"<td>{_date(s['latest_delivery_date'])}</td>"
        f'<td class="num">{int(s["files_loaded"] or 0):,}</td>'
        f'<td class="num">{int(s["files_failed"] or 0):,}</td>'
        f'<td class="num">{int(s["rows_loaded"] or 0):,}</td>'
        f'<td class="num">{int(s["rows_rejected"] or 0):,}</td>'
        f'<td><span class="status {_status_class(s["status"])}">{escape(s["status"])}</span>'
        "</td></tr>"
        for s in sources
    )
    return f"""
<section id="freshness"><div class="card">
<h2 style="margin-top:0">Data freshness</h2>
{banner}{_failed_files_html(data)}
<dl class="facts">{facts_html}</dl>
<table id="sources-summary"><thead><tr><th>Source</th><th>Latest delivery</th>
<th class="num">Objects ok</th><th class="num">Files failed</th><th class="num">Rows rejected</th>
<th>Status</th></tr></thead><tbody>{"".join(system_rows)}</tbody></table>
<details{" open" if problems else ""}><summary>Every source object</summary>
<table id="sources"><thead><tr><th>Source</th><th>Object</th><th>Latest delivery</th>
<th class="num">Files loaded</th><th class="num">Files failed</th><th class="num">Rows loaded</th>
<th class="num">Rows rejected</th><th>Status</th></tr></thead><tbody>{object_rows}</tbody></table>
</details>{_quarantine_html(data)}{_run_checks_html(data)}</div></section>"""


def _delivered(value: object, limit: int = 200) -> str:
    """A delivered value for the page: escaped, cut to `limit` characters, `empty` for null."""
    if value is None:
        return "<em>empty</em>"
    text = str(value)
    return escape(text if len(text) <= limit else text[:limit] + "...")


def _quarantine_html(data: ReportData) -> str:
    """Open quarantined cells: rows ingestion kept out of the marts (file, row, column, value,
    rule), the first QUARANTINE_ROWS of them and the count of all."""
    if not data.quarantine_open:
        return (
            '<h3 style="margin-top:12px">Quarantined rows</h3>'
            '<p id="quarantine-status">No delivered row is held back: every value could be '
            "cast.</p>"
        )
    shown = len(data.quarantine)
    more = (
        f" The first {shown} are listed; raw._quarantine and the mart data_quality_quarantine "
        "hold them all."
        if shown < data.quarantine_open
        else ""
    )
    rows = "".join(
        f"<tr><td>{escape(str(q['source_name']))}/{escape(str(q['object_name']))}</td>"
        f"<td>{escape(str(q['file_path']))}</td>"
        f'<td class="num">{int(q["row_number"]):,}</td>'
        f"<td>{escape(str(q['column_name']))}</td>"
        f"<td>{_delivered(q['delivered_value'])}</td>"
        f"<td>{escape(str(q['quarantine_rule']))}</td>"
        f"<td>{escape(str(q['quarantine_message']))}</td></tr>"
        for q in data.quarantine
    )
    return (
        '<h3 style="margin-top:12px">Quarantined rows</h3>'
        f'<p id="quarantine-status">{data.quarantine_open:,} value(s) in delivered rows could not '
        "be cast or were empty where required: those rows are in no mart until a corrected "
        f"version is delivered.{more}</p>"
        '<table id="quarantine"><thead><tr><th>Object</th><th>File</th>'
        '<th class="num">Row</th><th>Column</th><th>Value</th><th>Rule</th><th>Why</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def _failed_files_html(data: ReportData) -> str:
    """The failed-file policy's banner: each landing file whose latest load attempt failed,
    which this snapshot was published without, with its error."""
    if not data.failed_files:
        return ""
    items = "".join(
        f"<li><code>{escape(str(f['file_path']))}</code>: {escape(str(f['error'] or '')[:500])}"
        f" (failed {_date(f['failed_at'])})</li>"
        for f in data.failed_files
    )
    return (
        f'<div class="banner problem" id="failed-files-status">{len(data.failed_files)} '
        "delivery file(s) failed to load and are not in these numbers; deliver a corrected "
        f'file to include them:<ul id="failed-files">{items}</ul></div>'
    )


def _checks_table(checks: list[dict[str, object]], table_id: str) -> str:
    """Checks that did not pass: name, status, meaning, failing rows, up to five sample rows."""
    rows = []
    for check in checks:
        failures = check.get("failures")
        samples = check.get("sample_rows") or check.get("samples") or []
        sample_text = "<br>".join(
            escape(", ".join(f"{k}={v}" for k, v in dict(row).items())) for row in samples
        )
        if not sample_text and check.get("sample_error"):
            sample_text = escape(str(check["sample_error"]))
        if check.get("message"):
            sample_text += ("<br>" if sample_text else "") + escape(str(check["message"])[:500])
        name = check.get("check_name") or check.get("name")
        status = str(check.get("status"))
        rows.append(
            f"<tr><td>{escape(str(name))}</td>"
            f'<td><span class="status {escape(status)}">{escape(status)}</span></td>'
            f"<td>{escape(str(check.get('meaning') or ''))}</td>"
            f'<td class="num">{"-" if failures is None else f"{int(failures):,}"}</td>'
            f'<td class="samples">{sample_text}</td></tr>'
        )
    return (
        f'<table id="{table_id}"><thead><tr><th>Check</th><th>Status</th><th>Meaning</th>'
        f'<th class="num">Failing rows</th><th>Sample rows (up to 5)</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _run_checks_html(data: ReportData) -> str:
    """The served snapshot's run: its checks that warned (a published run failed none)."""
    if not data.checks:
        return (
            '<h3 style="margin-top:12px">Checks of this run</h3>'
            '<p id="checks-status">Every check passed.</p>'
        )
    return (
        '<h3 style="margin-top:12px">Checks of this run</h3>'
        f'<p id="checks-status">{len(data.checks)} check(s) did not pass; none of them blocks '
        "publishing (warnings):</p>" + _checks_table(data.checks, "checks")
    )


def _failed_refresh_html(failure: dict[str, object]) -> str:
    """The latest refresh did not publish: why. The numbers below stay the served snapshot's."""
    checks = [c for c in failure.get("checks") or [] if c.get("status") != "warn"]
    warned = [c for c in failure.get("checks") or [] if c.get("status") == "warn"]
    errors = "".join(f"<li>{escape(str(e)[:1000])}</li>" for e in failure.get("errors") or [])
    body = ""
    if checks:
        body += "<h3>Blocking checks that failed</h3>" + _checks_table(checks, "failed-checks")
    if warned:
        body += "<h3>Warnings of that run</h3>" + _checks_table(warned, "failed-run-warnings")
    if errors:
        body += f'<h3>Errors</h3><ul id="failed-run-errors">{errors}</ul>'
    return f"""
<section id="latest-refresh"><div class="card">
<h2 style="margin-top:0">Latest refresh did not publish</h2>
<div class="banner problem" id="latest-refresh-status">Refresh
{escape(str(failure.get("run_id")))} ({_date(failure.get("recorded_at"))}) did not publish a new
snapshot. Every number below is still the served snapshot's, from its own run.</div>
{body}</div></section>"""


def _tiles_html(data: ReportData, tiles: list[Tile]) -> str:
    month = data.report_month.strftime("%B %Y")
    latest = data.snapshot.get("latest_delivery_date")
    partial = ""
    if isinstance(latest, dt.date) and (latest.year, latest.month) == (
        data.report_month.year,
        data.report_month.month,
    ):
        partial = f" (month to date, through {latest.isoformat()})"
    previous = data.previous_month.strftime("%b %Y") if data.previous_month else "last month"
    cards = []
    for tile in tiles:
        change, css = format_change(tile, data.reporting_currency)
        was = format_value(tile.previous, tile.unit, data.reporting_currency)
        basis = " (fully loaded)" if tile.key == "cac" else ""
        vs = tile.previous_month.strftime("%b %Y") if tile.previous_month else previous
        cards.append(
            f'<div class="tile" id="tile-{tile.key}" data-metric="{tile.key}">'
            f'<div class="name">{escape(tile.definition.name)}{basis}</div>'
            f'<div class="value">'
            f"{escape(format_value(tile.value, tile.unit, data.reporting_currency))}</div>"
            f'<div class="change {css}">{escape(change)} vs {escape(vs)} '
            f"({escape(was)})</div>"
            + (f'<div class="note">{escape(tile.note)}</div>' if tile.note else "")
            + f'<div class="def" title="{escape(tile.definition.source)}">'
            f"{escape(tile.definition.definition)}</div></div>"
        )
    return f"""
<section id="headline"><h2>Headline metrics: {escape(month)}{escape(partial)}</h2>
<div class="tiles">{"".join(cards)}</div></section>"""


def _figure_html(spec: FigureSpec) -> str:
    note = f'<p class="note">{escape(spec.note)}</p>' if spec.note else ""
    return f"""
<div class="card figure" id="{spec.figure_id}-card">
<h3>{escape(spec.title)}</h3>
<p class="definition"><strong>{escape(spec.definition.name)}:</strong>
{escape(spec.definition.definition)}</p>
<div class="source">Source: {escape(spec.source)}</div>{note}
<div class="chart" id="{spec.figure_id}"></div>
<script type="application/json" class="figure-spec"
 data-target="{spec.figure_id}">{_figure_json(spec)}</script>
</div>"""


def _notes_html(data: ReportData) -> str:
    items = "".join(
        f"<tr><td>{escape(m.name)}</td><td>{escape(m.definition)}</td>"
        f'<td class="source">{escape(m.source)}</td></tr>'
        for m in d.ALL_DEFINITIONS
    )
    gaps = "".join(f"<li>{escape(g)}</li>" for g in GAPS)
    return f"""
<section id="notes"><h2>Definitions and notes</h2><div class="card">
<p>Every number on this page is read from the published marts of this snapshot; definitions
are in {d.METRICS_DOC}. Amounts are in {escape(data.reporting_currency)}. Attribution model for
channel ROI: {escape(data.attribution_model)}.</p>
<table><thead><tr><th>Metric</th><th>Definition</th><th>Source</th></tr></thead>
<tbody>{items}</tbody></table>
<h3 style="margin-top:12px">Not in the marts yet</h3><ul>{gaps}</ul></div></section>"""


def render_html(
    data: ReportData, failed_refresh: dict[str, object] | None = None
) -> tuple[str, list[str], list[str], list[Tile]]:
    """The page, its section ids, its figure ids and its tiles. `failed_refresh`: the latest
    refresh did not publish (publish.record_failed_refresh); shown first."""
    tiles = build_tiles(data)
    sections = [FRESHNESS_SECTION, HEADLINE_SECTION]
    if failed_refresh:
        sections.insert(0, FAILED_REFRESH_SECTION)
    chart_html = []
    figure_ids = []
    for section_id, title, builders in CHART_SECTIONS:
        specs = [build(data) for build in builders]
        figure_ids += [s.figure_id for s in specs]
        sections.append((section_id, title))
        chart_html.append(
            f'<section id="{section_id}"><h2>{escape(title)}</h2>'
            + "".join(_figure_html(s) for s in specs)
            + "</section>"
        )
    sections.append(NOTES_SECTION)
    payload = {
        "snapshot": data.snapshot,
        "sources": data.sources,
        "rows_rejected": sum(int(s["rows_rejected"] or 0) for s in data.sources),
        "reporting_currency": data.reporting_currency,
        "attribution_model": data.attribution_model,
        "report_month": data.report_month,
        "previous_month": data.previous_month,
        "tiles": {t.key: t.as_json(data.report_month, data.previous_month) for t in tiles},
        "sections": [s for s, _ in sections],
        "figures": figure_ids,
        "checks": data.checks,
        "failed_files": data.failed_files,
        "quarantine": {"open": data.quarantine_open, "rows": data.quarantine},
        "failed_refresh": failed_refresh,
    }
    nav = "".join(f'<a href="#{s}">{escape(t)}</a>' for s, t in sections)
    snapshot_id = escape(str(data.snapshot.get("snapshot_id")))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="revops-snapshot-id" content="{snapshot_id}">
<title>revops report - {snapshot_id}</title>
<style>{_CSS}</style>
<script>{plotly.offline.get_plotlyjs()}</script>
</head><body>
<header><h1>RevOps report</h1>
<p>Snapshot {snapshot_id}, published {_date(data.snapshot.get("published_at"))};
data through {_date(data.snapshot.get("latest_delivery_date"))}</p></header>
<nav>{nav}</nav>
<main>
{_failed_refresh_html(failed_refresh) if failed_refresh else ""}
{_freshness_html(data)}
{_tiles_html(data, tiles)}
{"".join(chart_html)}
{_notes_html(data)}
</main>
<footer>Generated by revops from the published marts. Opens offline: charts by plotly.js,
inlined.</footer>
{_json_script(payload, id="report-data")}
<script>{_RENDER_JS}</script>
</body></html>
"""
    return page, [s for s, _ in sections], figure_ids, tiles


def build_report(
    serving_db: Path,
    out: Path,
    attribution_model: str = DEFAULT_ATTRIBUTION_MODEL,
    failed_refresh: dict[str, object] | None = None,
    funnel_maturity_months: int | None = None,
) -> ReportResult:
    """Write the HTML report of the serving file `serving_db` to `out` (read-only access).

    `attribution_model` picks the fct_attribution model of the channel ROI chart; it defaults
    to the setting `roi_attribution_model`'s default, which revops_metrics.roas uses.
    `failed_refresh` (publish.record_failed_refresh): the latest refresh did not publish; the
    page opens with why, and every number stays the served snapshot's.
    `funnel_maturity_months`: the funnel opens on the latest cohort this many months old;
    None reads the setting `funnel_cohort_maturity_months` (environment, then settings file).
    """
    if funnel_maturity_months is None:
        funnel_maturity_months = settings.funnel_cohort_maturity_months(settings.load_settings())
    data = read_report_data(Path(serving_db), attribution_model, funnel_maturity_months)
    page, sections, figures, tiles = render_html(data, failed_refresh)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)  # readers never see a half-written report
    snapshot_id = data.snapshot.get("snapshot_id")
    return ReportResult(
        path=out,
        bytes=out.stat().st_size,
        snapshot_id=None if snapshot_id is None else str(snapshot_id),
        report_month=data.report_month,
        sections=tuple(sections),
        figures=tuple(figures),
        tiles=tuple(t.key for t in tiles),
    )
