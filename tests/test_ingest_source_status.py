"""An optional export object that was never delivered is no problem downstream: the published
snapshot's source status says `not delivered (optional)` and the report's freshness section
neither lists it as a problem nor counts it against its source system."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import duckdb

from revops import contract
from revops.ingest import SOURCE_OPTIONAL_NOT_DELIVERED, ingest_landing
from revops.publish import SOURCES_TABLE, Snapshot, _write_metadata
from revops.report.build import _freshness_html
from revops.report.data import ReportData
from tests.ingest_support import deliver

OPTIONAL = {"OpportunityStage", "LeadStatus"}


def _published_sources(landing: Path, tmp_path: Path) -> dict[str, dict]:
    """`revops_sources` as publishing writes it, keyed by `<source>/<object>`."""
    warehouse = tmp_path / "warehouse.duckdb"
    assert ingest_landing(landing, warehouse).ok
    con = duckdb.connect()
    try:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        snapshot = Snapshot("s1", dt.datetime.now(dt.UTC).isoformat(), "run", tables={})
        _write_metadata(con, snapshot, 0, has_ledger=True)
        cur = con.execute(f"select * from {SOURCES_TABLE}")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    return {f"{r['source']}/{r['object']}": r for r in rows}


def test_published_status_of_optional_and_required_objects(tmp_path: Path):
    landing = tmp_path / "landing"
    for o in contract.OBJECTS:
        if not o.optional and o.folder != "reference/quotas":
            deliver(landing, o.folder, n=1)
    deliver(landing, "salesforce/LeadStatus", n=1)

    sources = _published_sources(landing, tmp_path)

    status = {k: v["status"] for k, v in sources.items()}
    assert status["salesforce/OpportunityStage"] == "not delivered (optional)"
    assert status["salesforce/LeadStatus"] == "ok"
    assert status["reference/quotas"] == "missing"
    assert {k for k, v in status.items() if v != "ok"} == {
        "salesforce/OpportunityStage",
        "hubspot/campaigns",  # optional (Marketing Hub only)
        "reference/quotas",
    }


def _report_data(statuses: dict[str, str]) -> ReportData:
    sources = [
        {
            "source": o.source,
            "object": o.name,
            "latest_delivery_date": None if statuses.get(o.folder) else dt.date(2025, 3, 1),
            "files_loaded": 0 if statuses.get(o.folder) else 1,
            "files_failed": 0,
            "rows_loaded": 0,
            "rows_rejected": 0,
            "status": statuses.get(o.folder, "ok"),
        }
        for o in contract.OBJECTS
    ]
    fields = {f.name: None for f in dataclasses.fields(ReportData)}
    return ReportData(**{**fields, "snapshot": {}, "sources": sources})


def test_report_does_not_flag_an_optional_object_never_delivered():
    optional = {f"salesforce/{n}": SOURCE_OPTIONAL_NOT_DELIVERED for n in OPTIONAL}
    html = _freshness_html(_report_data(optional))

    banner = re.search(r'id="freshness-status">(.*?)</div>', html).group(1)
    n = len(contract.OBJECTS) - 2
    assert banner == (
        f"All {n} source objects delivered and loaded (2 optional object(s) not delivered)"
    )
    salesforce = re.search(r"<tr><td>salesforce</td>.*?</tr>", html).group(0)
    assert '<td class="num">9 / 9</td>' in salesforce
    assert '<span class="status ok">ok</span>' in salesforce
    assert '<span class="status optional">not delivered (optional)</span>' in html


def test_report_still_flags_missing_required_objects_beside_optional_ones():
    statuses = {
        "salesforce/LeadStatus": SOURCE_OPTIONAL_NOT_DELIVERED,
        "reference/quotas": "missing",
    }
    html = _freshness_html(_report_data(statuses))

    banner = re.search(r'id="freshness-status">(.*?)</div>', html).group(1)
    assert banner.startswith("1 of ") and banner.endswith("reference/quotas (missing)")
