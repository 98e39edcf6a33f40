"""A self-contained HTML report of a published snapshot's marts (plotly, works offline).

    from revops.report import build_report
    result = build_report(Path("serving/revops.duckdb"), Path("serving/report.html"))

docs/REPORT.md lists the sections and where each figure comes from.
"""

from revops.report.build import ReportResult, build_report

__all__ = ["ReportResult", "build_report"]
