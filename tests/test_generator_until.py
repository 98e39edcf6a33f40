"""`revops generate --until`: a landing folder that advances day by day with the same company
(issue 19, "a demo that can advance")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from revops.generator.company import MANIFEST_FILE, AnotherCompanyError, read_manifest
from revops.generator.config import SCALES, GeneratorConfig
from revops.generator.run import TRUTH_FILE, GenerationResult, generate

D1 = dt.date(2024, 6, 30)
D2 = dt.date(2024, 7, 3)  # a month end, a few days and a new month later


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _day(relative: str) -> dt.date | None:
    parts = Path(relative).parts
    return dt.date.fromisoformat(parts[2]) if len(parts) == 4 else None


def test_until_extends_the_same_company_with_the_files_a_longer_generation_delivers(
    tmp_path: Path, xs_company: GenerationResult
):
    full = _files(xs_company.out)  # `revops generate --scale xs`: the whole history
    out = tmp_path / "landing"
    first = generate(GeneratorConfig(out=out, leads=SCALES["xs"], until=D1))
    assert (first.delivered_through, first.complete) == (D1, False)
    assert not (out / TRUTH_FILE).exists()  # ground truth comes with the last day

    second = generate(GeneratorConfig(out=out, leads=SCALES["xs"], until=D2))
    assert (second.delivered_from, second.delivered_through) == (D1 + dt.timedelta(1), D2)
    new_days = {k for k in full if _day(k) and D1 < _day(k) <= D2}
    assert second.files == len(new_days) > 0
    got = _files(out)
    assert got.pop(MANIFEST_FILE)
    assert got == {k: v for k, v in full.items() if _day(k) and _day(k) <= D2}

    # a fresh generation to D2 writes the same folder, manifest included
    fresh = tmp_path / "fresh"
    generate(GeneratorConfig(out=fresh, leads=SCALES["xs"], until=D2))
    assert _files(fresh) == _files(out)

    # and extending to the last day gives exactly the full generation, truth.json included
    last = generate(GeneratorConfig(out=out, leads=SCALES["xs"]))
    assert last.complete
    assert str(last.delivered_through) == xs_company.truth["generator"]["end_date"]
    assert _files(out) == full


def test_until_outside_the_history_and_a_folder_without_manifest_refuse(
    tmp_path: Path, xs_company: GenerationResult
):
    with pytest.raises(ValueError, match="outside the company's history"):
        GeneratorConfig(out=tmp_path, leads=SCALES["xs"], until=dt.date(2030, 1, 1))
    stray = tmp_path / "exports"
    (stray / "salesforce").mkdir(parents=True)
    with pytest.raises(AnotherCompanyError, match=f"{stray} is not empty .salesforce."):
        generate(GeneratorConfig(out=stray, leads=SCALES["xs"], until=D1))
    # another company: refused before anything is simulated, the folder untouched
    before = read_manifest(xs_company.out)
    with pytest.raises(AnotherCompanyError) as refused:
        generate(GeneratorConfig(out=xs_company.out, leads=SCALES["xs"], seed=7, until=D1))
    message = str(refused.value)
    assert str(xs_company.out) in message
    assert "seed 42, scale xs" in message and "seed 7, scale xs" in message
    assert read_manifest(xs_company.out) == before


def test_a_dirty_company_advances_to_the_same_damaged_files(tmp_path: Path):
    """--dirty damages files picked among every delivery: the days are cut from the whole
    damaged history, so they match a generation of the whole history."""
    small = dict(leads=300, days=60, dirty=True)
    whole = generate(GeneratorConfig(out=tmp_path / "whole", **small))
    out = tmp_path / "landing"
    part = generate(GeneratorConfig(out=out, until=dt.date(2023, 2, 1), **small))
    assert part.files > 0 and not part.complete
    rest = generate(GeneratorConfig(out=out, **small))
    assert rest.complete and rest.delivered_from == dt.date(2023, 2, 2)
    assert part.files + rest.files == whole.files
    assert _files(out) == _files(whole.out)
