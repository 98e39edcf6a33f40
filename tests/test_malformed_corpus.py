"""The malformed-file corpus (tests/corpus/) in one refresh: every case's files are added to a
copy of the generated `xs` company's landing folder, `revops refresh` runs once over it all,
and each case's expectations are checked against the ledger, the rejects, the raw tables, the
served snapshot and what the CLI printed (tests/corpus/README.md)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from revops import publish
from revops.cli import main
from revops.generator.company import MANIFEST_FILE
from revops.ingest import ingest_landing
from revops.ingest.warehouse import ident
from tests.corpus import DAY, LEAD, Case, Landing, collect_cases, file_name

CASES = collect_cases()
SHARED = [c for c in CASES if not c.isolated]

# Whether the shared refresh publishes a snapshot. It does: failed files are reported and do not
# block unless --strict (docs/INGESTION.md, "One policy for failed files"), and bad cells are
# quarantined instead of failing staging's tests ("Row-level quarantine"). Were it False, a
# marker expected in the snapshot (`Marker.published=True`) could not be checked there.
SHARED_REFRESH_PUBLISHES = True


@dataclass
class CorpusRun:
    """What the one refresh over the corpus left behind."""

    landing: Path
    warehouse: Path
    serving: Path
    exit_code: int
    output: str  # the CLI's stdout and stderr, runs of whitespace as one space
    log: str  # dbt's output of the run
    company_files: set[str]  # the generated company's files, relative to the landing folder
    ledger: dict[str, list[dict[str, Any]]]  # by file_path
    rejects: dict[str, list[dict[str, Any]]]  # by file_path

    @property
    def served(self) -> Path:
        return self.serving / publish.SERVING_FILE

    @property
    def published(self) -> bool:
        return self.served.exists()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _by_path(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["file_path"], []).append(row)
    return out


def _tables(warehouse: Path) -> tuple[dict, dict]:
    """The ledger and the rejects, by file path."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        ledger = _by_path(_rows(con, "select * from raw._load_ledger"))
        rejects = _by_path(_rows(con, "select * from raw._rejects"))
    finally:
        con.close()
    return ledger, rejects


@pytest.fixture(scope="session")
def templates(xs_company, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Landing]:
    """The company's landing folder, copied, and the `Landing` the builders write through."""
    base = tmp_path_factory.mktemp("corpus")
    landing, outside = base / "landing", base / "outside"
    shutil.copytree(xs_company.out, landing)
    outside.mkdir()
    lead_days = sorted(p.name for p in (landing / LEAD).iterdir())
    assert lead_days[-1] == DAY, "the corpus delivers into the company's newest Lead folder"
    return base, Landing.of(landing, outside)


@pytest.fixture(scope="session")
def corpus_run(templates: tuple[Path, Landing]) -> CorpusRun:
    base, land = templates
    landing = land.root
    company = {p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()}
    for case in SHARED:
        case.build(land)
    warehouse, serving = base / "warehouse.duckdb", base / "serving"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            ["refresh", "--landing", str(landing), "--warehouse", str(warehouse),
             "--serving", str(serving)]
        )  # fmt: skip
    ledger, rejects = _tables(warehouse)
    log = warehouse.with_name("refresh.log")
    return CorpusRun(
        landing=landing,
        warehouse=warehouse,
        serving=serving,
        exit_code=code,
        output=" ".join((out.getvalue() + "\n" + err.getvalue()).split()),
        log=log.read_text(encoding="utf-8", errors="replace") if log.exists() else "",
        company_files=company,
        ledger=ledger,
        rejects=rejects,
    )


def _isolated_run(case: Case, land: Landing, base: Path) -> CorpusRun:
    """An isolated case: its files alone in a landing folder, loaded by `ingest_landing`."""
    own = dataclasses.replace(land, root=base / "landing", outside=base / "outside")
    own.root.mkdir(parents=True)
    own.outside.mkdir()
    case.build(own)
    warehouse = base / "warehouse.duckdb"
    summary = ingest_landing(own.root, warehouse)
    ledger, rejects = _tables(warehouse)
    return CorpusRun(
        landing=own.root,
        warehouse=warehouse,
        serving=base / "serving",  # never written: nothing is published
        exit_code=0 if summary.ok else 1,
        output=" ".join("\n".join([summary.format_table(), *summary.errors]).split()),
        log="",
        company_files=set(),
        ledger=ledger,
        rejects=rejects,
    )


@pytest.fixture
def run_of(request: pytest.FixtureRequest, templates, tmp_path: Path):
    """The run a case is checked against: the shared refresh, or its own load if isolated."""

    def run(case: Case) -> CorpusRun:
        if case.isolated:
            assert all(m.published is None for m in case.markers), "isolated: not published"
            return _isolated_run(case, templates[1], tmp_path)
        return request.getfixturevalue("corpus_run")

    return run


def _query(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _present(path: Path, table: str, column: str, keys: list[str]) -> set[str]:
    """Which of `keys` are values of `table.column` in the database at `path`."""
    if not keys:
        return set()
    column = ident(column)
    rows = _query(path, f"select distinct {column} from {table} where {column} in ?", [keys])
    return {r[0] for r in rows}


def _tables_holding(path: Path, text: str) -> list[str]:
    """Every table of the database at `path` with `text` in any value (views are left out:
    they show table rows)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where not temporary"
        ).fetchall()
        found = []
        for schema, table in tables:
            name = f"{ident(schema)}.{ident(table)}"
            (hits,) = con.execute(
                f"select count(*) from {name} as t where contains(t::varchar, ?)", [text]
            ).fetchone()
            if hits:
                found.append(name)
        return found
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# The run as a whole


def test_the_corpus_is_collected_from_every_cases_module():
    modules = sorted(p.stem for p in (Path(__file__).parent / "corpus").glob("cases_*.py"))
    assert "cases_ingest" in modules
    found = {c.build.__module__.rsplit(".", 1)[-1] for c in CASES}
    assert found == set(modules)
    assert len(CASES) >= 30
    keys = [(m.raw_table, m.key) for c in CASES for m in c.markers]
    assert len(keys) == len(set(keys)), "a marker belongs to one case"


def test_the_shared_refresh_publishes_as_the_failed_file_policy_says(corpus_run: CorpusRun):
    assert corpus_run.published is SHARED_REFRESH_PUBLISHES, corpus_run.output[-3000:]
    if SHARED_REFRESH_PUBLISHES:
        assert corpus_run.exit_code == 0
    else:
        assert corpus_run.exit_code == 1
        assert "not published: the previous snapshot stays served" in corpus_run.output


def test_the_summary_equals_the_ledger_and_the_report_names_what_was_held_back(
    corpus_run: CorpusRun,
):
    """Issue 16: the refresh summary's counts are this run's ledger rows (one run, one load
    here: the warehouse was new), every file status and row count; and the served report names
    the quarantined cells and the open failed files."""
    (counts,) = _query(
        corpus_run.warehouse,
        """
        select
            count(*) filter (where status = 'loaded'),
            count(*) filter (where status = 'duplicate'),
            count(*) filter (where status = 'failed'),
            coalesce(sum(rows_loaded) filter (where status = 'loaded'), 0),
            coalesce(sum(rows_rejected) filter (where status = 'loaded'), 0),
            coalesce(sum(rows_quarantined) filter (where status = 'loaded'), 0)
        from raw._load_ledger
        """,
    )
    files_loaded, duplicate, failed, rows, rejected, quarantined = counts
    assert failed > 0 and rejected > 0 and quarantined > 0  # the corpus has each
    assert (
        f"{files_loaded:,} files loaded, {duplicate:,} duplicate, {failed:,} failed; "
        f"{rows:,} rows, {rejected:,} rejected, {quarantined:,} quarantined"
    ) in corpus_run.output
    page = (corpus_run.serving / publish.REPORT_FILE).read_text(encoding="utf-8")
    quarantine = page[page.index('id="quarantine"') :]
    assert f"{LEAD}/{DAY}/{file_name('bad_cells', '.csv')}" in quarantine
    banner = page[page.index('id="failed-files-status"') :]
    assert f"{LEAD}/{DAY}/{file_name('failed_semicolon_file', '.csv')}" in banner


def test_every_company_file_loads_beside_the_corpus(corpus_run: CorpusRun):
    """The cases take nothing from the company's own files (a loop, a failed file of the same
    object), and every ledger row belongs to the company or to a case."""
    declared = {p for c in SHARED for p in c.paths}
    statuses = Counter()
    for path, rows in corpus_run.ledger.items():
        assert len(rows) == 1, (path, rows)
        if path in corpus_run.company_files:
            statuses[rows[0]["status"]] += 1
        else:
            assert path in declared, f"{path}: ledger row of no case: {rows[0]}"
    # the ground truth and the generator's hidden manifest are not deliveries
    deliveries = {p for p in corpus_run.company_files if p not in ("truth.json", MANIFEST_FILE)}
    assert statuses == {"loaded": len(deliveries)}
    assert deliveries <= set(corpus_run.ledger)


# ---------------------------------------------------------------------------------------------
# One test per case


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case, run_of):
    run = run_of(case)
    # The ledger: one row per path of the case, with the expected counts and error.
    for want in case.files:
        rows = run.ledger.get(want.path, [])
        assert len(rows) == 1, f"{want.path}: {len(rows)} ledger rows"
        (got,) = rows
        facts = {
            "status": want.status,
            "rows_read": want.rows_read,
            "rows_loaded": want.rows_loaded,
            "rows_rejected": want.rows_rejected,
            "rows_counted": want.rows_counted,
            "rows_quarantined": want.quarantined_count,
            "duplicate_of": want.duplicate_of,
            "extra_columns": list(want.extra_columns),
        }
        if want.missing_columns is not None:
            facts["missing_columns"] = list(want.missing_columns)
        assert {k: got[k] for k in facts} == facts, want.path
        if want.error is None:
            assert got["error"] is None, want.path
        else:
            assert want.error in (got["error"] or ""), (want.path, got["error"])
    for path in case.not_in_ledger:
        assert path not in run.ledger, path

    # The rejects: exactly the expected ones.
    got_rejects = [r for p in case.paths for r in run.rejects.get(p, [])]
    assert sorted(
        (r["file_path"], r["error_type"], r["column_name"], r["row_number"]) for r in got_rejects
    ) == sorted((r.path, r.error_type, r.column, r.row_number) for r in case.rejects)
    for want in case.rejects:
        (got,) = [
            r
            for r in got_rejects
            if (r["file_path"], r["row_number"]) == (want.path, want.row_number)
        ]
        line = got["raw_line"] or ""
        if want.error is not None:
            assert want.error in got["error"], got["error"]
        if want.raw_line is not None:
            assert line == want.raw_line
        if want.raw_line_starts is not None:
            assert line.startswith(want.raw_line_starts), line[:200]
        if want.raw_line_length is not None:
            assert len(line) == want.raw_line_length

    # The quarantine: exactly the expected cells, released or still open.
    marks = ", ".join("?" for _ in case.paths)
    got_cells = (
        _query(
            run.warehouse,
            "select file_path, row_number, column_name, rule, released_at is not null, value "
            f"from raw._quarantine where file_path in ({marks})",
            case.paths,
        )
        if case.paths
        else []
    )
    assert sorted(c[:5] for c in got_cells) == sorted(
        (q.path, q.row_number, q.column, q.rule, q.released) for q in case.quarantined
    )
    for want in case.quarantined:
        if want.value is not None:
            (value,) = [
                c[5] for c in got_cells if c[:3] == (want.path, want.row_number, want.column)
            ]
            assert value == want.value, (want.path, want.row_number, want.column)

    # Raw values as delivered.
    for cell in case.raw_cells:
        rows = _query(
            run.warehouse,
            f"select {ident(cell.column)} from raw.{ident(cell.raw_table)} "
            f"where {ident(cell.key_column)} = ?",
            [cell.key],
        )
        assert rows == [(cell.value,)], (cell.key, cell.column)

    # Which rows reached raw, and which the served snapshot.
    for marker in case.markers:
        in_raw = _present(
            run.warehouse, f"raw.{ident(marker.raw_table)}", marker.raw_column, [marker.key]
        )
        assert bool(in_raw) is marker.in_raw, (marker.key, "raw")
        if marker.published is None or marker.mart is None:
            continue
        if marker.published and not run.published:
            continue  # see SHARED_REFRESH_PUBLISHES
        served = (
            _present(run.served, ident(marker.mart), marker.mart_column, [marker.key])
            if run.published
            else set()
        )
        assert bool(served) is marker.published, (marker.key, marker.mart)

    # What the CLI printed, and what must appear nowhere.
    for text in case.shown:
        assert " ".join(text.split()) in run.output, text
    for secret in case.never_shown:
        assert secret not in run.output and secret not in run.log, secret
        assert _tables_holding(run.warehouse, secret) == [], secret
        if run.published:
            assert _tables_holding(run.served, secret) == [], secret
