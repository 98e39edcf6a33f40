"""The failed-file policy (docs/INGESTION.md) at the unit level: which files are open, what a
run's ledger rows add up to, the `strict` setting, the strict refusal, the CLI's summary line.
The refresh end to end (published without the file, then refused under --strict) is in
tests/test_refresh.py."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from rich.console import Console

from revops import cli, settings
from revops.ingest import forget_file, ingest_landing
from revops.ingest.ledger import (
    COUNTS,
    LedgerCounts,
    ledger_counts,
    open_failures,
    read_open_failures,
    strict_refusal,
)
from tests.ingest_support import DAY, DAY2, csv_bytes, deliver, obj, rows, write

LEAD = "salesforce/Lead"
CUSTOMERS = "stripe/customers"
SEMICOLON = f"{LEAD}/{DAY}/Lead_semicolon.csv"


def _semicolon_lead(n: int = 2) -> bytes:
    return csv_bytes(obj(LEAD).column_names, rows(LEAD, n)).replace(b",", b";")


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def _direct_counts(warehouse: Path, load_ids: list[str]) -> tuple:
    """The issue's reference: a plain query of the ledger rows of these loads."""
    marks = ", ".join("?" for _ in load_ids)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            f"""
            select
                count(*) filter (where status = 'loaded'),
                count(*) filter (where status = 'duplicate'),
                count(*) filter (where status = 'failed'),
                coalesce(sum(rows_loaded), 0),
                coalesce(sum(rows_rejected), 0),
                coalesce(sum(rows_quarantined), 0)
            from raw._load_ledger
            where load_id in ({marks})
            """,
            load_ids,
        ).fetchone()


def test_counts_of_a_run_equal_its_ledger_rows(landing: Path, warehouse: Path):
    """Issue 16: one failed semicolon Lead file and two good files printed "1 files loaded,
    0 failed; 1 rows" while the ledger had 2 loaded (4 rows) and 1 failed."""
    write(landing, LEAD, DAY, "Lead_semicolon.csv", _semicolon_lead())
    deliver(landing, LEAD, DAY, n=3)
    deliver(landing, CUSTOMERS, DAY, n=1)
    summary = ingest_landing(landing, warehouse)

    with duckdb.connect(str(warehouse)) as con:
        counts = ledger_counts(con, [summary.load_id])
        assert ledger_counts(con, ["no-such-load"]) == LedgerCounts(load_ids=["no-such-load"])
    # by hand: Lead.csv (3 rows) and customers.jsonl (1 row) loaded, the semicolon file failed
    assert counts == LedgerCounts([summary.load_id], 2, 0, 1, 4, 0, 0)
    assert _direct_counts(warehouse, [summary.load_id]) == (2, 0, 1, 4, 0, 0)
    assert list(COUNTS) == ["files_loaded", "files_duplicate", "files_failed", "rows_loaded",
                            "rows_rejected", "rows_quarantined"]  # fmt: skip

    line = cli.ingest_line(counts)
    assert line == "2 files loaded, 0 duplicate, 1 failed; 4 rows, 0 rejected, 0 quarantined"
    unknown = SimpleNamespace(**{name: None for name in COUNTS})
    assert cli.ingest_line(unknown).startswith("unknown files loaded")  # never 0 for unknown


def test_a_failed_file_stays_open_until_a_later_row_or_forget_file(landing: Path, warehouse: Path):
    write(landing, LEAD, DAY, "Lead_semicolon.csv", _semicolon_lead())
    deliver(landing, LEAD, DAY2, n=2)
    ingest_landing(landing, warehouse)

    def open_paths() -> list[str]:
        return [f.file_path for f in read_open_failures(warehouse)]

    (failure,) = read_open_failures(warehouse)
    assert (failure.folder, failure.file_path) == (LEAD, SEMICOLON)
    assert "semicolon-delimited" in failure.message and failure.message.startswith(SEMICOLON)
    for _ in range(2):  # unchanged: not read again, still open, on every run
        ingest_landing(landing, warehouse)
        assert open_paths() == [SEMICOLON]
    # Removing the file from the landing folder does not resolve it: the ledger does.
    (landing / SEMICOLON).unlink()
    ingest_landing(landing, warehouse)
    assert open_paths() == [SEMICOLON]
    # A corrected file at the same path: a later `loaded` row resolves it.
    deliver(landing, LEAD, DAY, n=2, start=10, name="Lead_semicolon.csv")
    ingest_landing(landing, warehouse)
    assert open_paths() == []
    # A new failure of that path opens it again; forget_file removes it.
    write(landing, LEAD, DAY, "Lead_semicolon.csv", _semicolon_lead(3))
    ingest_landing(landing, warehouse)
    assert open_paths() == [SEMICOLON]
    forget_file(warehouse, SEMICOLON)
    assert open_paths() == []
    with duckdb.connect(str(warehouse)) as con:
        assert open_failures(con, obj(CUSTOMERS)) == []


def test_a_duplicate_resolves_a_failed_path(landing: Path, warehouse: Path):
    write(landing, LEAD, DAY, "Lead.csv", _semicolon_lead())
    good = deliver(landing, LEAD, DAY2, n=2)
    ingest_landing(landing, warehouse)
    assert [f.file_path for f in read_open_failures(warehouse)] == [f"{LEAD}/{DAY}/Lead.csv"]
    write(landing, LEAD, DAY, "Lead.csv", good.read_bytes())  # the same bytes as a loaded file
    assert ingest_landing(landing, warehouse).files_duplicate == 1
    assert read_open_failures(warehouse) == []


def test_no_warehouse_no_open_failures(tmp_path: Path):
    assert read_open_failures(tmp_path / "none.duckdb") == []


def test_strict_refusal_names_every_file(landing: Path, warehouse: Path):
    write(landing, LEAD, DAY, "Lead_semicolon.csv", _semicolon_lead())
    write(landing, CUSTOMERS, DAY, "customers.jsonl", b"Id,Name\n1,x\n")
    ingest_landing(landing, warehouse)
    failures = read_open_failures(warehouse)
    message = strict_refusal(failures)
    lines = message.splitlines()
    assert lines[0].startswith("not published (strict): 2 open failed file(s)")
    assert [line.strip().split(": ")[0] for line in lines[1:]] == [
        SEMICOLON,
        f"{CUSTOMERS}/{DAY}/customers.jsonl",
    ]


@pytest.mark.parametrize(
    ("env", "file", "expected"),
    [
        (None, None, False),
        ("true", None, True),
        ("0", "true", False),  # the environment wins over the file
        ("", "true", True),  # empty counts as unset
        (None, "off", False),
        ("YES", None, True),
    ],
)
def test_strict_setting_resolution(env, file, expected):
    org = settings.Settings(values={"strict": file} if file else {})
    environ = {} if env is None else {settings.STRICT_ENV: env}
    assert settings.strict(org, environ) is expected


def test_a_bad_strict_value_is_an_error(tmp_path: Path):
    with pytest.raises(settings.SettingsError, match=r"\$REVOPS_STRICT: strict must be true"):
        settings.strict(settings.Settings(), {settings.STRICT_ENV: "maybe"})
    path = tmp_path / "org.toml"
    path.write_text('strict = "sometimes"\n')
    with pytest.raises(settings.SettingsError, match="key 'strict': true or false"):
        settings.load_settings(path)
    path.write_text("strict = true\n")
    loaded = settings.load_settings(path)
    assert loaded.env({}) == {"REVOPS_STRICT": "true"} and settings.strict(loaded, {})


def test_the_cli_prints_open_failures_and_unknown_paths():
    failure = SimpleNamespace(message=f"{SEMICOLON}: missing required column(s) Id [x]")
    out = io.StringIO()
    console = Console(file=out, width=200)
    for strict in (False, True):
        result = SimpleNamespace(open_failures=[failure], strict=strict, unknown_paths=["zoho/"])
        with contextlib.redirect_stdout(out):
            cli._print_failed_files(result, console)
    text = out.getvalue()
    assert text.count(f"failed file: {SEMICOLON}: missing required column(s) Id [x]") == 2
    assert text.count("published without it until a corrected file is delivered") == 1
    assert text.count("warning: zoho/ is not an object of the export contract (not loaded)") == 2


def test_revops_ingest_reports_an_open_failed_file_on_every_run(
    landing: Path, warehouse: Path, capsys
):
    write(landing, LEAD, DAY, "Lead_semicolon.csv", _semicolon_lead())
    deliver(landing, LEAD, DAY2, n=2)
    args = ["ingest", "--landing", str(landing), "--warehouse", str(warehouse)]
    codes, texts = [], []
    for _ in range(2):
        codes.append(cli.main(args))
        texts.append(" ".join(capsys.readouterr().out.split()))
    assert codes == [1, 1]  # the same data, the same outcome
    assert f"error: {SEMICOLON}: missing required column(s)" in texts[0]
    assert f"failed file: {SEMICOLON}: missing required column(s)" in texts[1]
    assert "(an earlier run; open until a corrected file loads)" in texts[1]
    deliver(landing, LEAD, DAY, n=2, start=10, name="Lead_semicolon.csv")
    assert cli.main(args) == 0


def test_serving_snapshot_refuses_to_publish_under_strict(
    landing: Path, warehouse: Path, tmp_path: Path, monkeypatch, dbt_manifest: Path
):
    """The Dagster path: the `strict` setting (settings file) or run config stops the publish
    step before it publishes; without it, the step goes on (here: to its Spark branch, which
    publishes nothing, so that no marts are needed)."""
    import dagster as dg

    from orchestration.defs.ingestion.resources import LandingFolder, Warehouse
    from orchestration.defs.publish.assets import PublishConfig, serving_snapshot
    from orchestration.defs.publish.resources import ServingFolder
    from orchestration.defs.transform.resources import OrgSettings

    write(landing, LEAD, DAY, "Lead_semicolon.csv", _semicolon_lead())
    ingest_landing(landing, warehouse)
    monkeypatch.delenv("REVOPS_STRICT", raising=False)
    monkeypatch.setenv("REVOPS_DBT_TARGET", "spark")
    org = tmp_path / "org.toml"
    org.write_text("strict = true\n")

    def publish(settings_file: OrgSettings, config: PublishConfig | None = None):
        resources = {
            "warehouse": Warehouse(path=str(warehouse)),
            "landing": LandingFolder(path=str(landing)),
            "serving": ServingFolder(path=str(tmp_path / "serving")),
            "settings_file": settings_file,
        }
        run_config = dg.RunConfig({"serving_snapshot": config}) if config else None
        return dg.materialize(
            [serving_snapshot], resources=resources, run_config=run_config, raise_on_error=False
        )

    for refused in (
        publish(OrgSettings(path=str(org))),
        publish(OrgSettings(), PublishConfig(strict=True)),
    ):
        assert not refused.success
        (failure,) = [e for e in refused.all_events if e.is_step_failure]
        message = failure.event_specific_data.error.message
        assert "not published (strict): 1 open failed file(s)" in message
        assert f"{SEMICOLON}: missing required column(s)" in message
    allowed = publish(OrgSettings())
    assert allowed.success and not allowed.get_asset_materialization_events()
