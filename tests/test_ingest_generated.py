"""End to end on a generated dirty company: every delivered row is accounted for, and each fault
the generator injects (truth.json "dirty") gets the outcome it expects from ingestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from revops.generator.run import GenerationResult
from revops.ingest import ingest_landing
from tests.ingest_support import ledger, query

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def company(
    xs_dirty: GenerationResult, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, dict]:
    landing = xs_dirty.out
    warehouse = tmp_path_factory.mktemp("generated") / "warehouse.duckdb"
    summary = ingest_landing(landing, warehouse)
    assert summary.ok, summary.errors
    # The generator's own truth.json sits beside the deliveries: neither loaded nor reported.
    assert summary.unknown_paths == []
    return landing, warehouse, xs_dirty.truth


def _faults(truth: dict) -> dict[str, dict]:
    return {f["fault"]: f for f in truth["dirty"]}


def test_every_delivered_row_is_loaded_rejected_or_a_duplicate(company):
    _, warehouse, truth = company
    rows = ledger(warehouse)
    read = {r["file_path"]: r["rows_read"] for r in rows if r["status"] == "loaded"}
    for folder, expected in truth["deliveries"].items():
        mine = [r for r in rows if r["file_path"].startswith(folder + "/")]
        assert len(mine) == expected["files"], folder
        data_rows = 0
        for r in mine:
            if r["status"] == "loaded":
                assert r["rows_quarantined"] == 0, r["file_path"]  # the generator's cells cast
                assert r["rows_read"] == r["rows_loaded"] + r["rows_rejected"], r["file_path"]
                data_rows += r["rows_read"]
            else:
                assert r["status"] == "duplicate", r
                data_rows += read[r["duplicate_of"]]
        assert data_rows == expected["data_rows"], folder


def test_resent_files_are_duplicates_of_the_original(company):
    _, warehouse, truth = company
    for pair in _faults(truth)["resent_file"]["files"]:
        (copy,) = ledger(warehouse, pair["copy"])
        assert (copy["status"], copy["duplicate_of"]) == ("duplicate", pair["original"])


def test_malformed_rows_are_rejected_at_their_line(company):
    _, warehouse, truth = company
    rejects = set(query(warehouse, "select file_path, line_number from raw._rejects"))
    expected = {(r["file"], r["line"]) for r in _faults(truth)["malformed_rows"]["rows"]}
    assert rejects == expected


def test_renamed_column_is_kept_and_the_old_one_is_null(company):
    _, warehouse, truth = company
    fault = _faults(truth)["renamed_column"]
    for path in fault["files"]:
        (row,) = ledger(warehouse, path)
        assert row["extra_columns"] == ["JobTitle"] and row["missing_columns"] == ["Title"]
        counts = query(
            warehouse,
            'select count(*), count("Title") from raw.salesforce__lead where _file_path = ?',
            [path],
        )
        assert counts == [(row["rows_loaded"], 0)]


def test_a_second_run_finds_nothing_new(company):
    landing, warehouse, _ = company
    before = ledger(warehouse)
    again = ingest_landing(landing, warehouse)
    assert again.ok and again.files_loaded == again.files_duplicate == again.files_failed == 0
    assert ledger(warehouse) == before
