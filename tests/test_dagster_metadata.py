"""The code location does what it says (issue 19): nothing runs by itself when `dagster dev`
starts, sensors describe the job they launch, every asset has a named group, owners and kinds,
and freshness comes from the export contract's delivery cadence, for dbt and Dagster alike."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from revops import contract


@pytest.fixture(scope="module")
def defs(dbt_manifest: Path) -> dg.Definitions:
    from orchestration.definitions import defs

    return defs


def test_starting_dagster_launches_no_run(defs: dg.Definitions):
    """A sensor that is running when the daemon starts ticks within seconds; a schedule only
    at its cron time. So every sensor that can launch a run starts stopped, and each schedule
    has a cron. The one sensor on by default is the run-failure alert: it targets no job, so
    it can only call the alert hook after a run someone else started has failed."""
    repo = defs.get_repository_def()
    sensors = {s.name: s.default_status for s in repo.sensor_defs}
    assert sensors == {
        "landing_folder_sensor": dg.DefaultSensorStatus.STOPPED,
        "freshness_checks_sensor": dg.DefaultSensorStatus.STOPPED,
        "refresh_failure_alert": dg.DefaultSensorStatus.RUNNING,
    }
    for sensor in repo.sensor_defs:
        if sensor.default_status == dg.DefaultSensorStatus.RUNNING:
            assert isinstance(sensor, dg.RunStatusSensorDefinition), sensor.name
            assert not sensor.has_jobs and not sensor.targets, sensor.name
    for schedule in repo.schedule_defs:
        assert schedule.cron_schedule == "0 6 * * *", schedule.name


def test_the_landing_sensor_says_which_job_it_launches(defs: dg.Definitions):
    sensor = defs.resolve_sensor_def("landing_folder_sensor")
    assert sensor.job_name == "refresh"
    assert "`refresh` job" in sensor.description
    assert "ingestion run" not in sensor.description
    assert "starts stopped" in sensor.description.lower()


def test_every_asset_has_a_named_group_owners_and_kinds(defs: dg.Definitions):
    graph = defs.resolve_asset_graph()
    nodes = {key.to_user_string(): graph.get(key) for key in graph.get_all_asset_keys()}
    assert [k for k, n in nodes.items() if n.group_name == "default"] == []
    assert [k for k, n in nodes.items() if not n.owners] == []
    assert [k for k, n in nodes.items() if not n.kinds] == []
    assert nodes["opportunity_stages"].group_name == "seeds"  # a seed
    assert nodes["fct_mrr"].owners == ["team:analytics-engineering"]
    assert nodes["salesforce/lead"].owners == ["team:data-platform"]
    assert {"dbt", "duckdb"} <= set(nodes["fct_mrr"].kinds)


def _hours(threshold: dict | None) -> int | None:
    if not threshold or threshold.get("count") is None:
        return None
    return threshold["count"] * {"hour": 1, "day": 24}[threshold["period"]]


def test_dbt_source_freshness_is_the_contract_cadence(dbt_manifest: Path):
    manifest = json.loads(dbt_manifest.read_text())
    sources = {s["identifier"]: s for s in manifest["sources"].values()}
    found = {}
    for obj in contract.OBJECTS:
        source = sources[obj.raw_table]
        assert source["loaded_at_field"] == "_loaded_at", obj.folder
        freshness = source["freshness"] or {}
        found[obj.folder] = (
            _hours(freshness.get("warn_after")),
            _hours(freshness.get("error_after")),
        )
    expected = {
        o.folder: (contract.cadence(o).warn_after_hours, contract.cadence(o).error_after_hours)
        for o in contract.OBJECTS
    }
    assert found == expected, "set the source's freshness in its _<source>__sources.yml"


def test_every_required_object_has_a_freshness_check_at_its_cadence(defs: dg.Definitions):
    from orchestration.defs.ingestion.assets import asset_key

    graph = defs.resolve_asset_graph()
    bounds = {}
    for check_key in graph.asset_check_keys:
        if check_key.name == "freshness_check":
            spec = graph.get_check_spec(check_key)
            params = spec.metadata["dagster/freshness_params"].value
            bounds[check_key.asset_key] = params["lower_bound_delta_seconds"] / 3600
    expected = {
        asset_key(o): contract.cadence(o).warn_after_hours
        for o in contract.OBJECTS
        if not o.optional
    }
    assert bounds == expected
    # the two optional picklists and hubspot/campaigns
    assert len(expected) == len(contract.OBJECTS) - 3


def test_the_refresh_job_leaves_freshness_to_its_sensor(defs: dg.Definitions):
    graph = defs.resolve_job_def("refresh").asset_layer.asset_graph
    assert not [k for k in graph.asset_check_keys if k.name == "freshness_check"]
    assert any(k.name == "no_unresolved_failed_files" for k in graph.asset_check_keys)
