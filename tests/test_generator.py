"""The generator: contract conformance, determinism, truth.json's internal consistency and the
--dirty manifest."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from revops import contract
from revops.cli import main
from revops.generator.company import AnotherCompanyError
from revops.generator.config import GeneratorConfig
from revops.generator.run import generate

CHECKS = {
    contract.INTEGER: "try_cast({c} as bigint)",
    contract.DECIMAL: "try_cast({c} as decimal(38, 6))",
    contract.BOOLEAN: "case when {c} in ('true', 'false') then true end",
    contract.DATE: "try_strptime({c}, '%Y-%m-%d')",
    contract.TIMESTAMP: "try_strptime({c}, '%Y-%m-%dT%H:%M:%S.%gZ')",
    contract.UNIX_TIME: "try_cast({c} as bigint)",
}


def _files(root: Path, obj: contract.ExportObject) -> list[Path]:
    return sorted((root / obj.source / obj.name).glob("*/*"))


def _assert_contract_columns(names: list[str], obj: contract.ExportObject, path: Path) -> None:
    """The columns are contract columns in contract order, the required ones all present."""
    assert names == [c for c in obj.column_names if c in names], path
    assert set(obj.required_columns) <= set(names), path


@pytest.mark.parametrize(
    "obj",
    # the xs company exports from Salesforce (test_generator_hubspot.py checks HubSpot's files)
    [o for o in contract.OBJECTS if not o.optional and o.source != "hubspot"],
    ids=lambda o: o.folder,
)
def test_files_match_the_contract(xs_company, obj):
    assert_files_match_contract(xs_company.out, obj)


def assert_files_match_contract(root: Path, obj: contract.ExportObject) -> None:
    """Every delivery of `obj` below `root` is in its dated folder, has the contract's columns
    in contract order, every required value, and values of the column's type."""
    files = _files(root, obj)
    assert files, f"no deliveries for {obj.folder}"
    for f in files:
        # <source>/<object>/<YYYY-MM-DD>/<file>: the delivery folder is a real date
        dt.date.fromisoformat(f.parent.name)
        assert f.parent.parent.name == obj.name and f.parent.parent.parent.name == obj.source, f
    con = duckdb.connect()
    paths = [str(f) for f in files]
    if obj.format == "csv":
        for f in files[:50]:
            with f.open(newline="", encoding="utf-8") as fh:
                _assert_contract_columns(next(csv.reader(fh)), obj, f)
        rel = f"read_csv({paths}, all_varchar = true, header = true)"
        exprs = {c.name: f'"{c.name}"' for c in obj.columns}
    else:
        for f in files[:50]:
            for line in f.read_text(encoding="utf-8").splitlines():
                _assert_contract_columns(list(json.loads(line)), obj, f)
        rel = f"read_ndjson_objects({paths})"
        exprs = {c.name: f"json_extract_string(json, '$.\"{c.name}\"')" for c in obj.columns}
    for col in obj.columns:
        value = exprs[col.name]
        if col.required:
            missing = con.execute(f"select count(*) from {rel} where {value} is null").fetchone()[0]
            assert missing == 0, f"{obj.folder}.{col.name}: {missing} rows without a value"
        if col.type in CHECKS:
            check = CHECKS[col.type].format(c=value)
            bad = con.execute(
                f"select count(*), any_value({value}) from {rel} "
                f"where {value} is not null and {check} is null"
            ).fetchone()
            assert bad[0] == 0, (
                f"{obj.folder}.{col.name}: {bad[0]} values not {col.type}: {bad[1]!r}"
            )


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def test_same_arguments_give_byte_identical_files(tmp_path):
    small = dict(leads=400, days=120)
    a = generate(GeneratorConfig(out=tmp_path / "a", dirty=True, **small))
    b = generate(GeneratorConfig(out=tmp_path / "b", dirty=True, **small))
    c = generate(GeneratorConfig(out=tmp_path / "c", dirty=True, seed=7, **small))
    assert _digest(a.out) == _digest(b.out)
    assert _digest(a.out) != _digest(c.out)


def test_generating_another_company_into_the_same_folder_refuses(tmp_path):
    """Two companies in one landing folder would mix in the warehouse: the second generation
    stops before it writes anything, naming the folder and both companies."""
    generate(GeneratorConfig(out=tmp_path, leads=300, days=60, seed=1))
    first = _digest(tmp_path)
    with pytest.raises(AnotherCompanyError) as refused:
        generate(GeneratorConfig(out=tmp_path, leads=300, days=90, seed=2))
    message = str(refused.value)
    assert str(tmp_path) in message
    assert "seed 1, 300 leads" in message and "2023-01-01 to 2023-03-01" in message
    assert "seed 2, 300 leads" in message and "2023-01-01 to 2023-03-31" in message
    assert _digest(tmp_path) == first
    # the same company again: nothing new to write, nothing changes
    again = generate(GeneratorConfig(out=tmp_path, leads=300, days=60, seed=1))
    assert (again.files, again.complete) == (0, True)
    assert _digest(tmp_path) == first


def _d(value: str) -> Decimal:
    return Decimal(value)


def test_mrr_movements_bridge_every_month_and_segment(xs_company):
    """truth `mrr_fx_neutral`: previous + constant-currency movements + fx = MRR to the cent,
    its MRR is truth `mrr`'s, and the monthly retention parts follow from the bridge."""
    rows = xs_company.truth["mrr_fx_neutral"]
    mrr = {(r["month"], r["segment"]): r for r in xs_company.truth["mrr"]}
    by_key = {(r["month"], r["segment"]): r for r in rows}
    assert set(by_key) == set(mrr)
    months = sorted({r["month"] for r in rows})
    assert any(_d(r["mrr"]) > 0 for r in rows)
    for r in rows:
        key = (r["month"], r["segment"])
        assert (r["mrr"], r["previous_mrr"]) == (mrr[key]["mrr"], mrr[key]["previous_mrr"])
        bridge = (
            _d(r["previous_mrr"])
            + _d(r["new"])
            + _d(r["reactivation"])
            + _d(r["expansion"])
            - _d(r["contraction"])
            - _d(r["churn"])
            + _d(r["fx"])
        )
        assert bridge == _d(r["mrr"]), r
        retained = _d(r["previous_mrr"]) + _d(r["expansion"]) - _d(r["contraction"])
        assert _d(r["monthly_net_retained"]) == retained - _d(r["churn"]), r
        assert _d(r["monthly_retention_base"]) == _d(r["previous_mrr"]), r
        i = months.index(r["month"])
        if i:
            assert _d(r["previous_mrr"]) == _d(by_key[(months[i - 1], r["segment"])]["mrr"])
    # every kind of movement happens somewhere in three years, and the rates move both ways
    for name in ("new", "expansion", "contraction", "churn", "reactivation"):
        assert sum(_d(r[name]) for r in rows) > 0, name
    assert any(_d(r["fx"]) > 0 for r in rows) and any(_d(r["fx"]) < 0 for r in rows)


def test_cohort_stage_counts_never_increase_down_the_funnel(xs_company):
    stages = ["leads", "reached_mql", "reached_sql", "reached_opportunity", "reached_won"]
    cohorts = xs_company.truth["funnel_cohorts"]
    assert sum(c["reached_won"] for c in cohorts) > 0
    for c in cohorts:
        counts = [c[s] for s in stages]
        assert counts == sorted(counts, reverse=True), c


def test_funnel_totals_agree_with_cohorts_and_month_rows(xs_company):
    truth = xs_company.truth
    funnel, cohorts = truth["funnel"], truth["funnel_cohorts"]
    assert (
        sum(r["leads"] for r in funnel)
        == sum(c["leads"] for c in cohorts)
        == truth["totals"]["leads"]
    )
    assert sum(r["mqls"] for r in funnel) == sum(c["reached_mql"] for c in cohorts)
    assert sum(r["sqls"] for r in funnel) == sum(c["reached_sql"] for c in cohorts)
    for r in funnel:
        assert _d(r["won_amount"]) == sum(
            _d(r[f"{t}_won_amount"]) for t in ("new_business", "expansion", "renewal")
        )


def test_the_company_behaves_like_a_saas_business(xs_company):
    t = xs_company.truth["totals"]
    assert 1800 <= t["leads"] <= 2300  # xs is about 2k leads
    assert 0.2 < t["mqls"] / t["leads"] < 0.5
    assert 0.3 < t["sqls"] / t["mqls"] < 0.7
    assert t["customers"] > 40
    segs = {r["segment"] for r in xs_company.truth["mrr"] if _d(r["mrr"]) > 0}
    assert segs == {"SMB", "Mid-Market", "Enterprise"}
    spend = xs_company.truth["ad_spend"]
    assert {r["platform"] for r in spend} == {"google_ads", "linkedin_ads", "meta_ads"}


def test_dirty_manifest_lists_every_fault_and_it_is_in_the_files(xs_dirty):
    root = xs_dirty.out
    faults = {f["fault"]: f for f in xs_dirty.truth["dirty"]}
    assert set(faults) == {
        "duplicate_rows",
        "resent_file",
        "late_arriving_updates",
        "malformed_rows",
        "renamed_column",
        "test_accounts",
        "email_case_and_whitespace",
    }
    for pair in faults["resent_file"]["files"]:
        assert (root / pair["original"]).read_bytes() == (root / pair["copy"]).read_bytes()
    assert faults["duplicate_rows"]["rows"] > 0
    for f in faults["duplicate_rows"]["files"]:
        lines = (root / f).read_text().splitlines()
        assert len(lines) != len(set(lines)), f
    for bad in faults["malformed_rows"]["rows"]:
        line = (root / bad["file"]).read_text().splitlines()[bad["line"] - 1]
        if bad["problem"] == "invalid JSON":
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
        else:
            header = (root / bad["file"]).read_text().splitlines()[0]
            assert len(next(csv.reader([line]))) > len(next(csv.reader([header])))
    renamed = root / faults["renamed_column"]["files"][0]
    assert "JobTitle" in renamed.read_text().splitlines()[0]
    text = "".join(p.read_text() for p in (root / "salesforce/Lead").glob("*/*.csv"))
    for lead_id in faults["test_accounts"]["leads"]:
        assert lead_id in text
    assert faults["email_case_and_whitespace"]["rows"] > 0


def test_dirty_faults_do_not_change_the_truth(xs_company, xs_dirty):
    for key in ("funnel", "funnel_cohorts", "mrr", "ad_spend", "totals"):
        assert xs_company.truth[key] == xs_dirty.truth[key], key


def test_truth_counts_the_delivered_rows(xs_dirty):
    root = xs_dirty.out
    for folder, d in xs_dirty.truth["deliveries"].items():
        files = [p for p in (root / folder).glob("*/*") if p.is_file()]
        assert d["files"] == len(files), folder


def test_cli_generate_writes_a_company(tmp_path, capsys):
    out = tmp_path / "landing"
    code = main(["generate", "--leads", "200", "--days", "45", "--seed", "3", "--out", str(out)])
    assert code == 0
    assert (out / "truth.json").exists()
    assert (out / "salesforce" / "Lead").is_dir()
    assert "Rows written per export object" in capsys.readouterr().out


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    assert main(["generate", "--leads", "3", "--out", str(tmp_path)]) == 2
    assert "--leads must be at least 50" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["generate", "--start-date", "2024-13-01"])
