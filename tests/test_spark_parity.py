"""Spark parity: the `xs` company built by dbt on DuckDB and on local Spark (dbt-spark, session
mode) gives the same marts: same columns, row counts and keys, and the same values (amounts to
the cent, doubles to 1e-9 relative, everything else exactly). docs/SPARK.md.

Needs Java (17) and the `spark` dependency group (`uv sync --group spark`); skipped otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from revops.ingest import ingest_landing
from revops.ingest.parquet import export_raw_parquet
from revops.publish import BOOKKEEPING_PREFIX
from revops.settings import Settings, write_mapping_tables

ROOT = Path(__file__).resolve().parent.parent
DBT = Path(sys.executable).parent / "dbt"


def _spark_missing() -> str | None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (Spark needs Java 17)"
    for module in ("pyspark", "dbt.adapters.spark"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (uv sync --group spark)"
    return None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_spark_missing() is not None, reason=str(_spark_missing())),
]

# On Spark, dbt's own `not_null` tests of everything before the marts are left out (360 of 793
# data tests, about 110 s of the build's node time on 2 cores): they are the same engine-neutral
# `where <column> is null` as on DuckDB, where they run, and a null that differs between the
# engines and matters reaches a mart, which this test compares value by value. Every other data
# test runs on Spark: the marts' not_null, unique, relationships, accepted values, our own
# generic tests (cast failures, unmapped values, unique combinations) and the singular tests.
SPARK_LEFT_OUT = tuple(
    f"test_name:not_null,path:{folder}"
    for folder in ("models/staging", "models/intermediate", "models/utilities", "seeds")
)

# What local Spark would leave in the working directory if the profile did not move it.
SPARK_LITTER = ("metastore_db", "derby.log", "spark-warehouse")


# How dbt reports a local Spark whose JVM went away under it (seen twice on the shared
# development machine, never on its own; the JVM ran its shutdown hooks, so something ended it
# from outside). Such a build is run once more in a fresh folder instead of failing the test.
JVM_GONE = ("Connection refused", "SparkContext was shut down", "stopped SparkContext")


def _dbt_build(target: str, base: Path, env: dict[str, str], attempt: str = "") -> float | None:
    """Runs `dbt build` and returns its wall time, or None if Spark's JVM died under it."""
    name = f"{target}{attempt}"
    started = time.monotonic()
    result = subprocess.run(
        [
            str(DBT),
            "build",
            # Unit tests check logic on fixed inputs, not the engine's data, and cost minutes on
            # Spark: left out as in the refresh (docs/SPARK.md: they pass on Spark too).
            "--exclude",
            "test_type:unit",
            *(SPARK_LEFT_OUT if target == "spark" else ()),
            "--target",
            target,
            "--profiles-dir",
            str(ROOT),
            "--project-dir",
            str(ROOT),
            "--target-path",
            str(base / f"target-{name}"),
            "--log-path",
            str(base / f"logs-{name}"),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    (base / f"dbt-{name}.stderr").write_text(result.stderr)
    output = "\n".join(line for line in result.stdout.splitlines() if not line.startswith('{"ts"'))
    if result.returncode != 0 and target == "spark" and any(s in output for s in JVM_GONE):
        print(f"\nSpark's JVM went away during dbt build ({name}); stderr tail:")
        print(result.stderr[-3000:])
        return None
    assert result.returncode == 0, (
        f"dbt build on {target} failed:\n{output[-8000:]}\nstderr:\n{result.stderr[-3000:]}"
    )
    return elapsed


@pytest.fixture(scope="module")
def builds(xs_company, tmp_path_factory: pytest.TempPathFactory):
    """The xs company ingested once, then built by dbt on DuckDB and on Spark."""
    base = tmp_path_factory.mktemp("spark_parity")
    warehouse = base / "warehouse.duckdb"
    summary = ingest_landing(xs_company.out, warehouse)
    assert summary.files_failed == 0, summary.errors
    # the refresh writes the (empty) mapping override tables before dbt runs: Spark reads them
    # from the raw layer's export like every source
    write_mapping_tables(warehouse, Settings())
    raw_parquet = base / "raw_parquet"
    exported = export_raw_parquet(warehouse, raw_parquet)
    assert {"_load_ledger", "_rejects", "salesforce__lead"} <= {t.table for t in exported}

    litter_before = {name for name in SPARK_LITTER if (ROOT / name).exists()}
    timings = {"duckdb": _dbt_build("duckdb", base, {"REVOPS_WAREHOUSE": str(warehouse)})}
    for attempt in ("", "-retry"):
        spark_dir = base / f"spark{attempt}"
        spark_env = {
            "REVOPS_SPARK_DIR": str(spark_dir),
            "REVOPS_RAW_PARQUET": str(raw_parquet),
            "REVOPS_SPARK_SCHEMA": "main",
        }
        timings["spark"] = _dbt_build("spark", base, spark_env, attempt)
        if timings["spark"] is not None:
            break
    assert timings["spark"] is not None, "Spark's JVM went away twice: see dbt-spark*.stderr"
    print(f"\ndbt build on xs: {json.dumps({k: round(v, 1) for k, v in timings.items()})}")
    litter_after = {name for name in SPARK_LITTER if (ROOT / name).exists()}
    manifest = json.loads((base / "target-duckdb" / "manifest.json").read_text())
    return {
        "warehouse": warehouse,
        "spark_tables": spark_dir / "warehouse" / "main.db",
        "manifest": manifest,
        "new_litter": litter_after - litter_before,
    }


def _marts(manifest: dict) -> dict[str, list[str]]:
    """Every mart model and its primary key column(s), from the `unique` and
    `unique_combination` tests that the project puts on each mart."""
    marts = {
        node["unique_id"]: node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    }
    keys: dict[str, list[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        name = marts.get(node["attached_node"])
        test = node.get("test_metadata") or {}
        if name is None or name in keys:
            continue
        if test.get("name") == "unique":
            keys[name] = [node["column_name"]]
        elif test.get("name") == "unique_combination":
            keys[name] = list(test["kwargs"]["columns"])
    missing = sorted(set(marts.values()) - set(keys))
    assert not missing, f"marts without a tested primary key: {missing}"
    return keys


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _compare(con: duckdb.DuckDBPyConnection, mart: str, key: list[str]) -> list[str]:
    """The differences between `ref.main.<mart>` (DuckDB) and `spark_<mart>` (Spark's files)."""
    problems: list[str] = []
    ref_cols = con.execute(f"describe ref.main.{_q(mart)}").fetchall()
    sp_cols = con.execute(f"describe spark_{mart}").fetchall()
    ref_names = [row[0] for row in ref_cols]
    sp_names = [row[0].lower() for row in sp_cols]
    if [n.lower() for n in ref_names] != sp_names:
        return [f"columns differ: duckdb {ref_names}, spark {sp_names}"]
    counts = con.execute(
        f"select (select count(*) from ref.main.{_q(mart)}), (select count(*) from spark_{mart})"
    ).fetchone()
    if counts[0] != counts[1]:
        problems.append(f"row count: duckdb {counts[0]}, spark {counts[1]}")
    keys = ", ".join(_q(k) for k in key)
    for left, right, label in (
        (f"ref.main.{_q(mart)}", f"spark_{mart}", "only on duckdb"),
        (f"spark_{mart}", f"ref.main.{_q(mart)}", "only on spark"),
    ):
        extra = con.execute(
            f"select {keys} from {left} except all select {keys} from {right} limit 3"
        ).fetchall()
        if extra:
            problems.append(f"keys {label}: {extra}")
    if problems:
        return problems

    on = " and ".join(f"d.{_q(k)} is not distinct from s.{_q(k)}" for k in key)
    for (name, ref_type, *_), (_, sp_type, *_) in zip(ref_cols, sp_cols, strict=True):
        if name.startswith(BOOKKEEPING_PREFIX):
            # an incremental mart's input signature: each engine's own hash, never published
            continue
        d, s = f"d.{_q(name)}", f"s.{_q(name)}"
        if ref_type.startswith("DECIMAL"):
            differs = f"round({d}, 2) is distinct from round(cast({s} as {ref_type}), 2)"
        elif ref_type in ("DOUBLE", "FLOAT"):
            differs = (
                f"({d} is null) <> ({s} is null) or abs({d} - {s}) "
                f"> 1e-9 * greatest(abs({d}), abs({s}), 1e-9)"
            )
        elif ref_type == "TIMESTAMP":
            # Spark writes instants (TIMESTAMPTZ in Parquet); the connection runs in UTC.
            differs = f"{d} is distinct from cast({s} as timestamp)"
        else:
            differs = f"{d} is distinct from cast({s} as {ref_type})"
        bad = con.execute(
            f"select count(*) filter (where {differs}), "
            f"list([cast({d} as varchar), cast({s} as varchar)]) filter (where {differs})[1:3] "
            f"from ref.main.{_q(mart)} as d inner join spark_{mart} as s on {on}"
        ).fetchone()
        if bad[0]:
            problems.append(f"{name} ({ref_type} vs {sp_type}): {bad[0]} rows, e.g. {bad[1]}")
    return problems


def test_spark_leaves_nothing_in_the_working_directory(builds):
    assert not builds["new_litter"]


def test_every_mart_is_the_same_on_spark_and_duckdb(builds):
    keys = _marts(builds["manifest"])
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"attach '{builds['warehouse']}' as ref (read_only)")
    differences: dict[str, list[str]] = {}
    for mart, key in sorted(keys.items()):
        folder = builds["spark_tables"] / mart
        assert folder.is_dir(), f"{mart}: Spark wrote no table at {folder}"
        con.execute(f"create view spark_{mart} as select * from read_parquet('{folder}/*.parquet')")
        problems = _compare(con, mart, key)
        if problems:
            differences[mart] = problems
    assert len(keys) >= 15
    assert not differences, json.dumps(differences, indent=2, default=str)
