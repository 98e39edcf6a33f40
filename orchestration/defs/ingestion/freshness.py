"""Freshness of each export object as Dagster asset checks, from the contract's delivery cadence.

The bounds are dbt's `source freshness` bounds (revops/contract.py `CADENCE`, mirrored in the
`_<source>__sources.yml` files; a test holds them equal), and both measure the same instant:
when ingestion last appended rows to the object's raw table (`_loaded_at`), which each
ingestion asset reports as `dagster/last_updated_timestamp`. A refresh that found no new file
does not make an object look fresh.

Optional objects (metadata picklists, delivered when they change, if ever) get no check: their
absence is not a problem (docs/INGESTION.md).
"""

import datetime as dt
import warnings
from collections import defaultdict

import dagster as dg

from orchestration.defs.ingestion.assets import asset_key
from revops import contract

FRESHNESS_SENSOR = "freshness_checks_sensor"


def build_freshness_checks() -> list[dg.AssetChecksDefinition]:
    """One `freshness_check` per required object: WARN once its newest rows are older than the
    cadence's `warn_after_hours`."""
    by_cadence: dict[contract.Cadence, list[dg.AssetKey]] = defaultdict(list)
    for obj in contract.OBJECTS:
        if not obj.optional:
            by_cadence[contract.cadence(obj)].append(asset_key(obj))
    checks: list[dg.AssetChecksDefinition] = []
    with warnings.catch_warnings():  # superseded, not deprecated: see below
        warnings.simplefilter("ignore", category=dg.SupersessionWarning)
        for cadence, keys in by_cadence.items():
            checks += dg.build_last_update_freshness_checks(
                assets=keys,
                lower_bound_delta=dt.timedelta(hours=cadence.warn_after_hours),
                severity=dg.AssetCheckSeverity.WARN,
            )
    return checks


freshness_checks = build_freshness_checks()

# Evaluates the checks on a timer. Each evaluation is a small run (checks only, nothing is
# materialized), so it starts stopped like the landing sensor: `dagster dev` launches nothing.
# Dagster 1.13 calls freshness checks superseded by `FreshnessPolicy`, which is still a preview
# that an open-source instance must switch on (`freshness: enabled` in dagster.yaml) and which
# reads materialization times only; the checks work on any instance and read
# `dagster/last_updated_timestamp`.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=dg.SupersessionWarning)
    freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=freshness_checks,
        name=FRESHNESS_SENSOR,
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
