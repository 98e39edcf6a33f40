"""The ingestion benchmark runs end to end on a tiny landing folder (figures: docs/INGESTION.md)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import ingest_bench
from tests.ingest_support import deliver


def test_benchmark_times_ours_and_bare_per_object(tmp_path: Path, capsys):
    landing = tmp_path / "landing"
    deliver(landing, "salesforce/Lead", n=5)
    deliver(landing, "stripe/charges", n=5)
    out = tmp_path / "bench.json"

    assert ingest_bench.main(["--landing", str(landing), "--repeat", "1", "--json", str(out)]) == 0

    figures = {f["object"]: f for f in json.loads(out.read_text())}
    assert set(figures) == {
        "salesforce/Lead",
        "stripe/charges",
        "total (sum of objects)",
        "total (one ingest_landing run)",
    }
    assert figures["salesforce/Lead"]["rows"] == 5 and figures["salesforce/Lead"]["bare_s"] > 0
    assert "ratio" in capsys.readouterr().out


def test_make_big_writes_one_file_per_format(tmp_path: Path):
    ingest_bench.main(["--make-big", str(tmp_path), "--rows", "10"])
    lead = tmp_path / "salesforce/Lead/2025-03-01/Lead.csv"
    lines = tmp_path / "stripe/invoice_line_items/2025-03-01/invoice_line_items.jsonl"
    assert len(lead.read_text().splitlines()) == 11
    assert len(lines.read_text().splitlines()) == 10
