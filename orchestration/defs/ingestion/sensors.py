"""A sensor that asks for a run of its job when delivery files appear or change.

It starts stopped (`dagster dev` launches nothing by itself): turn it on in the UI, or
`dagster sensor start landing_folder_sensor`. Its first tick then requests a run for every
object folder that holds files (the ledger skips what is already loaded).

It never opens the warehouse (a load may hold its lock): it compares a digest of each object
folder's file listing (path, size, mtime) with the one in its cursor, and requests a run of the
assets whose folders changed. The ledger still decides what is new, so a spurious run is cheap.
"""

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:  # the type of a job made by define_asset_job (not exported)
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

from orchestration.defs.ingestion.assets import IngestConfig, asset_key, ingestion_job
from orchestration.defs.ingestion.resources import LandingFolder
from revops import contract
from revops.ingest import fingerprint


def _description(job: str, settle_seconds: int, downstream: bool) -> str:
    then = ", then builds, tests and publishes everything downstream of them" if downstream else ""
    return (
        f"Requests a run of the `{job}` job when object folders of the landing folder gain or "
        f"change files (files settle for {settle_seconds} s first): the run loads those "
        f"objects' new files{then}. Starts stopped; turn it on to refresh on delivery."
    )


def build_landing_sensor(
    name: str = "landing_folder_sensor",
    minimum_interval_seconds: int = 60,
    settle_seconds: int = 30,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
    job: "UnresolvedAssetJobDefinition" = ingestion_job,
    downstream: Sequence[dg.AssetKey] = (),
) -> dg.SensorDefinition:
    """A sensor on the landing folder; files younger than `settle_seconds` wait for a later
    tick, so that a file still being copied is not loaded half-written. Each run it requests
    loads the changed objects and materializes `downstream` too (e.g. the dbt models and the
    publish step of the `refresh` job)."""

    @dg.sensor(
        name=name,
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=_description(job.name, settle_seconds, bool(downstream)),
    )
    def _sensor(context: dg.SensorEvaluationContext, landing: LandingFolder) -> dg.SensorResult:
        folder = landing.resolve()
        if not folder.is_dir():
            return dg.SensorResult(skip_reason=f"landing folder {folder} does not exist")
        current, unsettled = fingerprint(folder, contract.OBJECTS, settle_ns=settle_seconds * 10**9)
        previous = json.loads(context.cursor) if context.cursor else {}
        changed = [
            o
            for o in contract.OBJECTS
            if o.folder in current and previous.get(o.folder) != current[o.folder]
        ]
        waiting = f"; {unsettled} file(s) still settling" if unsettled else ""
        if not changed:
            return dg.SensorResult(
                skip_reason=f"no new delivery files{waiting}",
                cursor=json.dumps(current, sort_keys=True),
            )
        state = json.dumps(current, sort_keys=True)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=hashlib.sha256(state.encode()).hexdigest()[:16],
                    asset_selection=[asset_key(o) for o in changed] + list(downstream),
                    # The run, too, leaves alone files that are still settling.
                    run_config=dg.RunConfig(
                        {
                            asset_key(o).to_python_identifier(): IngestConfig(
                                min_age_seconds=settle_seconds
                            )
                            for o in changed
                        }
                    ),
                    tags={"revops/trigger": "landing_sensor"},
                )
            ],
            cursor=state,
        )

    return _sensor
