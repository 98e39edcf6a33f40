"""The Dagster instance a headless refresh runs in when $DAGSTER_HOME is not set.

`DagsterInstance.ephemeral()` keeps the run's events in an in-memory SQLite database, and its
event log storage opens a new SQLAlchemy connection for every read and write (and runs two
PRAGMAs on it), then asks SQLite whether the asset-check tables exist before every check
event. A refresh stores ~3,400 events (every dbt model's output and materialization, every dbt
test's planned and evaluated check, each with the reads Dagster makes for data versions and
check targets): at `s` ~13,000 connections. `ephemeral_instance()` is the same instance with
one connection per storage, reused under the storage's lock, and the table lookups cached:
the same schema, the same rows, the same events, for about half the CPU per event (2.0-2.2 s
instead of 3.9-4.6 s for the events of an `s` refresh; docs/SERVING.md, "Daily increments").
tests/test_refresh_startup.py holds the stored events equal to the stock storage's and fails
if the private names used here change in a Dagster upgrade.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as db
from dagster._core.storage.event_log.in_memory import InMemoryEventLogStorage
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    import dagster as dg

__all__ = ["ReusedConnectionEventLogStorage", "ephemeral_instance"]


class ReusedConnectionEventLogStorage(InMemoryEventLogStorage):
    """`InMemoryEventLogStorage` whose `_connect()` hands out one connection (each call still
    one transaction, under the storage's lock, as before) instead of opening a new one."""

    def __init__(self, inst_data: Any = None, preload: Any = None) -> None:
        super().__init__(inst_data, preload)
        # The same in-memory database (the URL names it; the parent's held connection keeps it
        # alive). One connection for every thread: the lock serialises its use.
        self._reused_engine = db.create_engine(
            self._engine.url,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
        self._reused_conn = self._reused_engine.connect()
        # what the parent sets on every new connection (journal_mode is moot in memory)
        self._reused_conn.execute(db.text("PRAGMA foreign_keys=ON;")).close()
        self._reused_conn.commit()
        self._tables: dict[str, bool] = {}

    @contextlib.contextmanager
    def _connect(self) -> Iterator[db.Connection]:
        with self._db_lock, self._reused_conn.begin():
            yield self._reused_conn

    def has_table(self, table_name: str) -> bool:
        # the schema is created once, in __init__, and never changes afterwards
        if table_name not in self._tables:
            self._tables[table_name] = super().has_table(table_name)
        return self._tables[table_name]

    def dispose(self) -> None:
        with contextlib.suppress(Exception):
            self._reused_conn.close()
        self._reused_engine.dispose()
        super().dispose()


def ephemeral_instance() -> dg.DagsterInstance:
    """`DagsterInstance.ephemeral()` (dagster._core.instance.factory) with the event log storage
    above: nothing is kept after the process, as with the stock one."""
    from dagster._core.instance.instance import DagsterInstance
    from dagster._core.instance.types import InstanceType
    from dagster._core.launcher.sync_in_memory_run_launcher import SyncInMemoryRunLauncher
    from dagster._core.run_coordinator import DefaultRunCoordinator
    from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
    from dagster._core.storage.root import TemporaryLocalArtifactStorage
    from dagster._core.storage.runs import InMemoryRunStorage

    return DagsterInstance(
        instance_type=InstanceType.EPHEMERAL,
        local_artifact_storage=TemporaryLocalArtifactStorage(),
        run_storage=InMemoryRunStorage(),
        event_storage=ReusedConnectionEventLogStorage(),
        compute_log_manager=NoOpComputeLogManager(),
        run_coordinator=DefaultRunCoordinator(),
        run_launcher=SyncInMemoryRunLauncher(),
    )
