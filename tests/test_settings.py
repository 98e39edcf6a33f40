"""Org settings (revops/settings.py, docs/CONFIGURATION.md): the settings file, its precedence,
its errors, the mapping overrides dbt merges with the seeds, and the documentation of every
setting, mapping and REVOPS_* environment variable the code uses."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from revops import checks, settings
from revops.cli import main
from revops.refresh import parse_fingerprint

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "CONFIGURATION.md"

LEAD_STATUS_ROWS = """
[[mappings.lead_status_stages]]
lead_status = "Recycled"
source_system = "salesforce"
funnel_stage = "none"
funnel_stage_rank = 0

[[mappings.lead_status_stages]]
lead_status = "Working - Contacted"
source_system = "salesforce"
funnel_stage = "mql"
funnel_stage_rank = 1
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.toml"
    path.write_text(text)
    return path


# --- documentation --------------------------------------------------------------------------


def _sql_files() -> list[Path]:
    return [p for d in ("models", "macros", "data-tests") for p in (ROOT / d).rglob("*.sql")]


def settings_in_code() -> dict[str, set[str]]:
    """Setting names and REVOPS_* variables the code uses, by where they were found."""
    found: dict[str, set[str]] = {}

    def add(name: str, where: str) -> None:
        found.setdefault(name, set()).add(where)

    for name in settings.dbt_settings():
        add(name, "dbt_project.yml vars")
    for name in settings.PYTHON_SETTINGS:
        add(name, "revops/settings.py PYTHON_SETTINGS")
    for path in _sql_files():
        text = path.read_text()
        # setting() and wrappers such as numeric_setting(), and plain dbt vars
        for name in re.findall(r"\b(?:\w*setting|var)\(\s*['\"]([a-z0-9_]+)['\"]", text):
            add(name, str(path.relative_to(ROOT)))
        for name in re.findall(r"\b\w*setting\(\s*['\"]([a-z0-9_]+)['\"]", text):
            add(settings.env_name(name), str(path.relative_to(ROOT)))
    env_files = [ROOT / "profiles.yml", ROOT / "dbt_project.yml", *_sql_files()]
    env_files += [p for d in ("revops", "orchestration", "bench") for p in (ROOT / d).rglob("*.py")]
    for path in env_files:
        for name in re.findall(r"\bREVOPS_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()):
            add(name, str(path.relative_to(ROOT)))
    return found


def test_every_setting_mapping_and_variable_is_documented():
    doc = DOC.read_text()
    documented = set(re.findall(r"`([A-Za-z0-9_]+)`", doc))
    missing = []
    org_settings = set(settings.setting_names())
    for name, places in sorted(settings_in_code().items()):
        if name not in documented:
            missing.append(f"{name} (used in {', '.join(sorted(places))})")
        elif name in org_settings and settings.env_name(name) not in documented:
            missing.append(f"{settings.env_name(name)}, the variable of `{name}`")
    headings = set(re.findall(r"^### `([a-z_]+)`", doc, re.M))
    for seed in settings.mapping_seeds():
        if seed.name not in headings:
            missing.append(f"mapping seed {seed.name} (a '### `{seed.name}`' section)")
        for column in seed.columns:
            if column not in documented:
                missing.append(f"column {column} of the mapping seed {seed.name}")
    assert not missing, "docs/CONFIGURATION.md has no entry for:\n  " + "\n  ".join(missing)


def _bare_var_reads() -> list[str]:
    org_settings = set(settings.dbt_settings())
    found = []
    for path in _sql_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for name in re.findall(r"\bvar\(\s*['\"]([a-z0-9_]+)['\"]", line):
                if name in org_settings:
                    found.append(f"{path.relative_to(ROOT)}:{number} var('{name}')")
    return found


def test_sql_reads_org_settings_through_the_setting_macro():
    # var() ignores REVOPS_<NAME>, so the settings file and the environment would not reach it
    offenders = _bare_var_reads()
    assert not offenders, "read these with setting('...'):\n  " + "\n  ".join(offenders)


# --- the settings file ----------------------------------------------------------------------


def test_a_settings_file_is_read_and_exported(tmp_path):
    path = _write(
        tmp_path,
        'reporting_currency = "EUR"\ngross_margin = 0.75\nattribution_lookback_days = 30\n'
        "duckdb_memory_limit = '1GB'\n" + LEAD_STATUS_ROWS,
    )
    loaded = settings.load_settings(path)
    assert loaded.values == {
        "reporting_currency": "EUR",
        "gross_margin": "0.75",
        "attribution_lookback_days": "30",
        "duckdb_memory_limit": "1GB",
    }
    assert loaded.env({}) == {
        "REVOPS_REPORTING_CURRENCY": "EUR",
        "REVOPS_GROSS_MARGIN": "0.75",
        "REVOPS_ATTRIBUTION_LOOKBACK_DAYS": "30",
        "REVOPS_DUCKDB_MEMORY_LIMIT": "1GB",
    }
    # the environment wins over the file; an empty variable counts as unset
    env = loaded.env({"REVOPS_REPORTING_CURRENCY": "GBP", "REVOPS_GROSS_MARGIN": " "})
    assert "REVOPS_REPORTING_CURRENCY" not in env and env["REVOPS_GROSS_MARGIN"] == "0.75"
    assert [r["lead_status"] for r in loaded.mappings["lead_status_stages"]] == [
        "Recycled",
        "Working - Contacted",
    ]
    assert loaded.mappings["lead_status_stages"][1]["funnel_stage_rank"] == "1"


def test_history_start_flag_wins_over_file_and_environment(tmp_path, monkeypatch):
    key = settings.env_name("history_start")
    assert key == "REVOPS_HISTORY_START"
    dates = [d for d in settings.dbt_settings() if d.endswith("history_start")]
    assert dates, "dbt_project.yml has no history start setting"
    path = _write(tmp_path, f"{dates[0]} = 2019-03-01\n")
    monkeypatch.setenv(settings.env_name(dates[0]), "2020-01-01")
    loaded = settings.load_settings(path)
    assert loaded.values == {dates[0]: "2019-03-01"}
    assert settings.env_name(dates[0]) not in loaded.env()  # the environment's value stays
    assert settings.settings_env(loaded, dt.date(2021, 5, 1))[key] == "2021-05-01"
    assert settings.settings_env(loaded, "2021-06-01")[key] == "2021-06-01"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('reportng_currency = "EUR"\n', "unknown key 'reportng_currency'"),
        ("gross_margin = [1, 2]\n", "key 'gross_margin': a setting is a string"),
        ("[[mappings.lead_stages]]\nx = 1\n", "unknown mapping 'lead_stages'"),
        (
            '[[mappings.utm_medium_channels]]\nutm_medium = "x"\n',
            "row 1: missing column(s) channel",
        ),
        (
            '[[mappings.utm_medium_channels]]\nutm_medium = "x"\nchannel = "y"\ncolour = "z"\n',
            "row 1: unknown column(s) colour",
        ),
        (
            '[[mappings.utm_medium_channels]]\nutm_medium = ""\nchannel = "y"\n',
            "the key column 'utm_medium' is empty",
        ),
        (
            '[[mappings.utm_medium_channels]]\nutm_medium = "a"\nchannel = "y"\n'
            '[[mappings.utm_medium_channels]]\nutm_medium = "a"\nchannel = "z"\n',
            "utm_medium repeated: a",
        ),
        ("[mappings]\nutm_medium_channels = 3\n", "write the rows as [[mappings."),
        ("reporting_currency = \n", "not valid TOML"),
    ],
)
def test_a_bad_settings_file_names_the_file_and_the_key(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(settings.SettingsError) as raised:
        settings.load_settings(path)
    assert message in str(raised.value) and str(path) in str(raised.value)


def test_commands_stop_on_a_bad_settings_file(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.SETTINGS_ENV, str(_write(tmp_path, "colour = 1\n")))
    (tmp_path / "landing").mkdir()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            ["refresh", "--landing", str(tmp_path / "landing"), "--warehouse",
             str(tmp_path / "w.duckdb"), "--serving", str(tmp_path / "serving")]
        )  # fmt: skip
    assert code == 2
    assert "unknown key 'colour'" in out.getvalue().replace("\n", "")
    assert not (tmp_path / "w.duckdb").exists()  # nothing ran
    monkeypatch.setenv(settings.SETTINGS_ENV, str(tmp_path / "absent.toml"))
    with contextlib.redirect_stdout(out):
        assert main(["ingest", "--landing", str(tmp_path / "landing")]) == 2


def test_the_parse_fingerprint_covers_the_settings_file(tmp_path, monkeypatch):
    path = _write(tmp_path, 'reporting_currency = "EUR"\n')
    monkeypatch.setenv(settings.SETTINGS_ENV, str(path))
    before = parse_fingerprint()
    path.write_text('reporting_currency = "GBP"\n')
    assert parse_fingerprint() != before


def test_a_refresh_exports_the_settings_and_the_history_start_before_dbt(tmp_path, monkeypatch):
    import revops.refresh

    seen: dict[str, str | None] = {}

    def parse_stub() -> None:  # the first thing the refresh runs with its environment set
        for name in ("REVOPS_SETTINGS", "REVOPS_HISTORY_START", "REVOPS_GROSS_MARGIN"):
            seen[name] = os.environ.get(name)
        raise RuntimeError("stop here")

    org = _write(tmp_path, "gross_margin = 0.6\n")
    monkeypatch.setenv(settings.SETTINGS_ENV, str(org))
    monkeypatch.delenv("REVOPS_GROSS_MARGIN", raising=False)
    monkeypatch.setenv("REVOPS_HISTORY_START", "2018-01-01")
    monkeypatch.setattr(revops.refresh, "ensure_manifest", parse_stub)
    (tmp_path / "landing").mkdir()
    with pytest.raises(RuntimeError, match="stop here"):
        revops.refresh.run_refresh(
            tmp_path / "landing", tmp_path / "w.duckdb", tmp_path / "s", history_start="2021-02-01"
        )
    assert seen == {
        "REVOPS_SETTINGS": str(org.resolve()),
        "REVOPS_HISTORY_START": "2021-02-01",  # the flag wins over the environment
        "REVOPS_GROSS_MARGIN": "0.6",
    }
    assert "REVOPS_GROSS_MARGIN" not in os.environ  # restored after the run
    assert os.environ["REVOPS_HISTORY_START"] == "2018-01-01"


def test_refresh_flag_history_start_is_parsed():
    from revops.cli import build_parser

    args = build_parser().parse_args(["refresh", "--history-start", "2019-01-01"])
    assert args.history_start == dt.date(2019, 1, 1)
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
        build_parser().parse_args(["refresh", "--history-start", "2019-13-01"])


# --- mapping overrides reach dbt ------------------------------------------------------------


def test_mapping_seeds_are_the_settings_source_and_have_a_model():
    sources = yaml.safe_load((ROOT / settings.MAPPING_SOURCES_FILE).read_text())["sources"]
    (source,) = [s for s in sources if s["name"] == "settings"]
    for seed in settings.mapping_seeds():
        assert (ROOT / "seeds" / f"{seed.name}.csv").exists()
        model = ROOT / "models" / "staging" / "settings" / f"stg_settings__{seed.name}.sql"
        assert model.read_text().strip() == f"{{{{ merge_org_mapping('{seed.name}') }}}}"
        (table,) = [t for t in source["tables"] if t["name"] == seed.name]
        assert table["identifier"] == seed.table


def test_models_read_mappings_through_org_mapping():
    # a bare ref() of the seed would not see the org's overrides
    seeds = {s.name for s in settings.mapping_seeds()}
    bare = [
        f"{p.relative_to(ROOT)}: ref('{name}')"
        for p in (ROOT / "models").rglob("*.sql")
        for name in re.findall(r"\bref\(\s*['\"]([a-z_]+)['\"]\s*\)", p.read_text())
        if name in seeds and not p.name.startswith("stg_settings__")
    ]
    assert not bare, "read these with org_mapping('<seed>'):\n  " + "\n  ".join(bare)


def _dbt(warehouse: Path, target: Path, *args: str) -> subprocess.CompletedProcess:
    dbt = Path(sys.executable).parent / "dbt"
    env = {**os.environ, "REVOPS_WAREHOUSE": str(warehouse)}
    return subprocess.run(
        [str(dbt), *args, "--profiles-dir", str(ROOT), "--project-dir", str(ROOT),
         "--target-path", str(target / "target"), "--log-path", str(target / "logs")],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip


def test_overrides_replace_seed_rows_per_key_and_add_new_keys(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    select = "stg_settings__lead_status_stages stg_settings__segment_bands"
    seeds = "lead_status_stages segment_bands"
    # Without the override tables (a plain dbt build before any refresh): the seeds' rows.
    done = _dbt(warehouse, tmp_path, "seed", "--select", seeds, "--quiet")
    assert done.returncode == 0, done.stdout[-3000:]
    done = _dbt(warehouse, tmp_path, "build", "--select", select, "--quiet")
    assert done.returncode == 0, done.stdout[-3000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        plain = con.execute(
            "select * from main.stg_settings__lead_status_stages order by lead_status"
        ).fetchall()
        seed = con.execute("select * from main.lead_status_stages order by lead_status").fetchall()
    finally:
        con.close()
    assert plain == seed

    org = settings.load_settings(
        _write(
            tmp_path,
            LEAD_STATUS_ROWS + '[[mappings.segment_bands]]\nsegment = "Enterprise"\n'
            'segment_order = 3\nmin_employees = 500\nmax_employees = ""\n',
        )
    )
    written = settings.write_mapping_tables(warehouse, org)
    assert written["lead_status_stages"] == 2 and written["segment_bands"] == 1
    assert written["utm_medium_channels"] == 0  # every table exists, empty without overrides
    done = _dbt(warehouse, tmp_path, "build", "--select", select, "--quiet")
    assert done.returncode == 0, done.stdout[-3000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        merged = {
            r[0]: r[1:]
            for r in con.execute("select * from main.stg_settings__lead_status_stages").fetchall()
        }
        bands = con.execute(
            "select segment, segment_order, min_employees, max_employees "
            "from main.stg_settings__segment_bands order by segment_order"
        ).fetchall()
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_name = 'stg_settings__segment_bands'"
            ).fetchall()
        )
    finally:
        con.close()
    assert merged["Working - Contacted"] == ("salesforce", "mql", 1)  # replaced
    assert merged["Recycled"] == ("salesforce", "none", 0)  # added
    assert len(merged) == len(seed) + 1
    # the other seed rows unchanged
    assert {r[0]: r[1:] for r in seed if r[0] != "Working - Contacted"}.items() <= merged.items()
    assert bands == [
        ("SMB", 1, 1, 199),
        ("Mid-Market", 2, 200, 999),
        ("Enterprise", 3, 500, None),  # "" is empty: no upper bound
    ]
    assert types["segment_order"] == "BIGINT" and types["max_employees"] == "BIGINT"


# --- failing checks explained ---------------------------------------------------------------


def test_generic_tests_get_a_one_line_meaning():
    def node(test: str, **kwargs) -> dict:
        model = "{{ get_where_subquery(ref('stg_salesforce__leads')) }}"
        return {
            "name": f"{test}_x",
            "description": "",
            "attached_node": "model.revops.stg_salesforce__leads",
            "test_metadata": {"name": test, "kwargs": {"model": model, **kwargs}},
        }

    assert (
        checks.meaning(node("not_null", column_name="lead_id"))
        == "not_null: stg_salesforce__leads.lead_id must not be empty"
    )
    assert checks.meaning(node("unique", column_name="lead_id")).startswith(
        "unique: stg_salesforce__leads.lead_id must be unique"
    )
    assert (
        checks.meaning(node("accepted_values", column_name="status", values=["a", "b"]))
        == "accepted_values: stg_salesforce__leads.status must be one of a, b"
    )
    assert (
        checks.meaning(
            node(
                "relationships",
                column_name="owner_id",
                to="ref('stg_salesforce__users')",
                field="user_id",
            )
        )
        == "relationships: every stg_salesforce__leads.owner_id must exist in "
        "stg_salesforce__users.user_id"
    )
    described = {**node("not_null"), "description": "Won amounts  reconcile.\n"}
    assert checks.meaning(described) == "Won amounts reconcile."


def test_failing_checks_are_explained_with_sample_rows(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create table leads as select range as lead_id from range(8)")
    con.execute("create table owners as select range as owner_id from range(20)")
    con.execute("update leads set lead_id = null where lead_id >= 2")
    con.close()
    manifest = {
        "nodes": {
            "test.revops.not_null_leads_lead_id.1": {
                "name": "not_null_leads_lead_id",
                "description": "",
                "attached_node": "model.revops.leads",
                "config": {"severity": "ERROR"},
                "test_metadata": {
                    "name": "not_null",
                    "kwargs": {"column_name": "lead_id", "model": "{{ ref('leads') }}"},
                },
            },
            "test.revops.assert_few.2": {
                "name": "assert_few",
                "description": "Fewer than two leads.",
                "config": {"severity": "warn"},
            },
        }
    }
    run_results = {
        "results": [
            {"unique_id": "test.revops.not_null_leads_lead_id.1", "status": "fail",
             "failures": 6, "compiled_code": "select *, 'x' as tag from leads "
             "where lead_id is null;"},
            {"unique_id": "test.revops.assert_few.2", "status": "warn", "failures": 1,
             "compiled_code": "select count(*) as n from leads having count(*) > 2"},
            {"unique_id": "test.revops.fine.3", "status": "pass", "failures": 0},
            {"unique_id": "model.revops.leads", "status": "success"},
        ]
    }  # fmt: skip
    outcomes = checks.explain_checks(run_results, manifest, warehouse)
    assert [(o.name, o.status, o.failures, o.blocking) for o in outcomes] == [
        ("not_null_leads_lead_id", "fail", 6, True),
        ("assert_few", "warn", 1, False),
    ]
    failing, warned = outcomes
    assert failing.meaning == "not_null: leads.lead_id must not be empty"
    assert failing.samples == [{"lead_id": None, "tag": "x"}]  # distinct rows, at most five
    assert warned.meaning == "Fewer than two leads." and warned.sample_keys() == ["n=8"]
    path = checks.checks_path(warehouse)
    checks.write_checks(path, "run-1", outcomes)
    assert checks.read_checks(path, "run-1") == outcomes
    assert checks.read_checks(path, "run-2") is None
    assert json.loads(path.read_text())["checks"][0]["meaning"] == failing.meaning
    at_most_five = checks.sample_rows(
        duckdb.connect(str(warehouse), read_only=True), "select owner_id from owners"
    )
    assert len(at_most_five) == 5
    # personal data is redacted: by column name, and any value that looks like an e-mail
    redacted = checks.sample_rows(
        duckdb.connect(str(warehouse), read_only=True),
        "select 'Ann.Lee@acme.io' as email, 'x ann.lee@acme.io' as note, 'Lee' as last_name, "
        "'00Q1' as lead_id",
    )
    assert redacted[0]["lead_id"] == "00Q1"
    assert redacted[0]["email"].startswith("<redacted ") and "acme" not in str(redacted)
    assert redacted[0]["last_name"].startswith("<redacted ")
    # no warehouse (a Spark build): explained without samples
    (spark,) = checks.explain_checks({"results": run_results["results"][:1]}, manifest, None)
    assert spark.samples == [] and "not a DuckDB build" in (spark.sample_error or "")
