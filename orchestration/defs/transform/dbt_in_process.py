"""`dbt build` inside the Dagster process (dbt's programmatic `dbtRunner`), with the same
Dagster events as dagster-dbt's subprocess.

dagster-dbt starts dbt as a new interpreter for every invocation and reads its JSON log lines
from stdout: ~4.7 s of process start and event handling per build, whatever the data, plus
dbt's partial parse (~1.8 s). Here dbt runs in a worker thread of this process and hands each
event to a callback; the callback puts it, in the dict form of the JSON log line
(`msg_to_dict`, what `--log-format json` prints), on a queue that `DbtInProcessInvocation`
streams from. Everything downstream of the raw events is dagster-dbt's own code
(`DbtCliInvocation.stream()`, `DbtCoreCliEventMessage.to_default_asset_events`): the same
Output, AssetMaterialization and AssetCheckResult events with the same metadata and blocking
semantics, the same run_results.json and dbt.log in the invocation's target folder.

dbt reuses the parsed manifest instead of parsing again: `dbtRunner(manifest=...)` skips dbt's
parse (and the write of manifest.json). The manifest is read from `target/partial_parse.msgpack`
only while `ensure_manifest`'s stamp vouches for it (revops/refresh.py: the project files, dbt's
version and every REVOPS_* / DBT_* variable are those it was parsed with); otherwise dbt parses
as usual (a partial parse, from a copy of that file).

Caveats of dbtRunner (docs.getdbt.com/reference/programmatic-invocations): dbt's flags, event
manager and adapter registry are process globals, so one invocation runs at a time in a process
(a lock here); an interrupted step cancels dbt's open queries and stops dbt's thread as Ctrl-C
stops its process. DuckDB is then opened in this process: dbt-duckdb's connection is closed
when the invocation ends, before the publish step opens the warehouse.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import queue
import shutil
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster import get_dagster_logger
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster_dbt.core.dbt_cli_invocation import PARTIAL_PARSE_FILE_NAME, DbtCliInvocation

logger = get_dagster_logger()

# One dbt invocation at a time in this process: dbt's flags and adapters are globals.
_INVOCATION_LOCK = threading.Lock()
_DONE = object()  # the queue's last item

# Events the console logger would print at dbt's default level (what the subprocess prints):
# not debug, not the relation cache's (stdout_filter in dbt_common).
_SKIPPED_EVENTS = frozenset({"CacheAction", "CacheDumpGraph"})


class _DbtThread:
    """Stands in for the `subprocess.Popen` of dagster-dbt's invocation: `args`, `wait()`,
    `returncode` (dbt's exit codes: 0 success, 1 a node failed, 2 dbt itself failed)."""

    def __init__(self, args: Sequence[str], run: Any) -> None:
        self.args = ["dbt", *args]
        self.returncode: int | None = None
        self.exception: BaseException | None = None
        self._thread = threading.Thread(target=run, name="dbt-in-process", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        return self.returncode

    @property
    def ident(self) -> int | None:
        return self._thread.ident

    def is_alive(self) -> bool:
        return self._thread.is_alive()


def _event_dict(msg: Any) -> dict[str, Any] | None:
    """The JSON log line dbt would print for this event, as a dict; None if it prints none."""
    from dbt_common.events.functions import msg_to_dict

    info = msg.info
    if info.name in _SKIPPED_EVENTS:
        return None
    if info.level == "debug" and info.name != "PrintEvent":
        return None
    return msg_to_dict(msg)


def _vouched_stamp(project_dir: Path) -> str | None:
    """The text of the stamp in target/ if it vouches for the parse there now (it matches the
    project and the environment), else None."""
    from revops import refresh

    if Path(project_dir).resolve() != refresh.PROJECT_DIR.resolve():
        return None
    target = refresh.PROJECT_DIR / "target"
    try:
        expected = f"{refresh.parse_fingerprint()}\n{refresh._artifacts_state(target)}"
        return expected if (target / refresh.PARSE_STAMP).read_text() == expected else None
    except OSError:
        return None


@dataclass
class _Prepared:
    """A manifest decoded ahead of the build (`prepare_in_background`), for the stamp it was
    decoded under."""

    thread: threading.Thread
    stamp: str | None = None
    manifest: Any | None = None


_PREPARED: dict[Path, _Prepared] = {}
_PREPARED_LOCK = threading.Lock()

# What the first in-process build imports (~1-2 s): dbt's CLI, its build task, the adapter.
_DBT_MODULES = ("dbt.cli.main", "dbt.task.build", "dbt.adapters.duckdb")


def prepare_in_background(project_dir: Path) -> None:
    """Start, in a thread, what the in-process dbt build does before its first node: import
    dbt's modules and decode the vouched parse (`load_parsed_manifest`). Called when the run's
    resources are set up: the work then overlaps the ingestion steps (DuckDB's loads leave the
    interpreter free) instead of waiting at the start of the dbt step. The build takes the
    manifest only if the stamp is still the one it was decoded under; otherwise it decodes
    (or dbt parses) as before."""
    key = Path(project_dir).resolve()

    def run() -> None:
        with contextlib.suppress(Exception):  # a warm-up only: the build does it all again
            for module in _DBT_MODULES:
                importlib.import_module(module)
            prepared.stamp = _vouched_stamp(key)
            if prepared.stamp is not None:
                prepared.manifest = _decode_parse(key)

    # not a daemon: a run that ends before its build waits for it rather than killing an import
    prepared = _Prepared(threading.Thread(target=run, name="dbt-prepare"))
    with _PREPARED_LOCK:
        if key in _PREPARED:  # one at a time; the build takes (and removes) it
            return
        _PREPARED[key] = prepared
    prepared.thread.start()


def _take_prepared(project_dir: Path, stamp: str | None) -> Any | None:
    """The manifest `prepare_in_background` decoded under `stamp`, once (dbt may change it);
    whatever was prepared is dropped."""
    with _PREPARED_LOCK:
        prepared = _PREPARED.pop(Path(project_dir).resolve(), None)
    if prepared is None or stamp is None:
        return None
    prepared.thread.join()
    return prepared.manifest if prepared.stamp == stamp else None


def load_parsed_manifest(project_dir: Path) -> Any | None:
    """dbt's `Manifest` from the parse that `ensure_manifest` vouches for now (the stamp in
    target/ matches the project and the environment), or None (dbt must parse). The one decoded
    ahead by `prepare_in_background` when it was decoded under the same stamp."""
    stamp = _vouched_stamp(project_dir)
    prepared = _take_prepared(project_dir, stamp)
    if stamp is None or prepared is not None:
        return prepared
    return _decode_parse(Path(project_dir).resolve())


def _decode_parse(project_dir: Path) -> Any | None:
    """The `Manifest` in target/partial_parse.msgpack (None: unreadable, or another dbt's)."""
    try:
        data = (project_dir / "target" / PARTIAL_PARSE_FILE_NAME).read_bytes()
    except OSError:
        return None
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder
    from dbt.version import __version__

    manifest = Manifest.from_msgpack(data, decoder=extended_mashumuro_decoder)
    if manifest.metadata.dbt_version != __version__:
        return None
    # What dbt's own load does after a partial parse that found nothing changed.
    manifest.build_parent_and_child_maps()
    manifest.build_group_map()
    manifest.build_flat_graph()
    return manifest


@contextlib.contextmanager
def _no_manifest_written() -> Iterator[None]:
    """dbt writes the whole manifest (~5 MB of JSON, 0.3-0.7 s) into the invocation's target
    folder after the last node, before run_results.json. Nothing reads that copy (the folder
    is removed after the step; the definitions and the checks read target/manifest.json, which
    `ensure_manifest` writes): skip it. dbt's module global is swapped for the invocation only
    (one at a time in a process: `_INVOCATION_LOCK`); tests/test_refresh_startup.py fails if
    dbt stops calling it by that name."""
    from dbt.task import runnable

    written = runnable.write_manifest
    runnable.write_manifest = _skip_manifest
    try:
        yield
    finally:
        runnable.write_manifest = written


def _skip_manifest(manifest: Any, target_path: str, which: str | None = None) -> None:
    return None


def _close_duckdb() -> None:
    """Close dbt-duckdb's database handle: it outlives the invocation (a class attribute),
    and the file must be free for the steps after dbt (the publish opens it read-only)."""
    with contextlib.suppress(ImportError):
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        with DuckDBConnectionManager._LOCK:
            env = DuckDBConnectionManager._ENV
            DuckDBConnectionManager._ENV = None
        if env is not None:
            env.close()


@dataclass
class DbtInProcessInvocation(DbtCliInvocation):
    """dagster-dbt's invocation, fed by dbtRunner's events instead of a process's stdout."""

    _events: queue.Queue = field(init=False, default_factory=queue.Queue, repr=False)
    _drained: bool = field(init=False, default=False, repr=False)

    @classmethod
    def start(
        cls,
        *,
        args: Sequence[str],
        parsed_manifest: Any | None,
        **fields: Any,
    ) -> DbtInProcessInvocation:
        events: queue.Queue = queue.Queue()
        holder: dict[str, _DbtThread] = {}

        def callback(msg: Any) -> None:
            # runs in dbt's threads, inside dbt's fire_event: it must never raise into dbt
            try:
                event = _event_dict(msg)
            except Exception as exc:  # an unserialisable event: its text, as a stray line
                event = f"{getattr(msg.info, 'msg', msg)} ({type(exc).__name__}: {exc})"
            if event is not None:
                events.put(event)

        def run() -> None:
            from dbt.cli.main import dbtRunner

            process = holder["process"]
            try:
                with _INVOCATION_LOCK, _no_manifest_written():
                    try:
                        result = dbtRunner(manifest=parsed_manifest, callbacks=[callback]).invoke(
                            list(args)
                        )
                    finally:
                        _close_duckdb()
                process.exception = result.exception
                process.returncode = 0 if result.success else (1 if not result.exception else 2)
            except BaseException as exc:  # reported as dbt's failure
                process.exception = exc
                process.returncode = 2
            finally:
                events.put(_DONE)

        process = _DbtThread(args, run)
        holder["process"] = process
        invocation = cls(process=process, **fields)  # type: ignore[arg-type]
        invocation._events = events
        process.start()
        logger.info(f"Running dbt command in process: `{invocation.dbt_command}`.")
        return invocation

    def _stream_stdout(self) -> Iterator[str | dict[str, Any]]:
        process: _DbtThread = self.process  # type: ignore[assignment]
        if self._drained:  # as a finished process's closed stdout (is_successful reads again)
            return
        try:
            while True:
                event = self._events.get()
                if event is _DONE:
                    self._drained = True
                    break
                if isinstance(event, dict) and event["info"]["level"] == "error":
                    self._error_messages.append(event["info"]["msg"])
                yield event
        except DagsterExecutionInterruptedError:
            logger.info(f"Interrupting dbt command: `{self.dbt_command}`.")
            _interrupt(process)
            process.wait(timeout=self.termination_timeout_seconds)
            logger.info(f"dbt command interrupted (exit code `{process.returncode}`).")
            raise
        process.wait()
        exc = process.exception
        if exc is not None and not any(str(exc) in m for m in self._error_messages):
            # e.g. bad arguments, raised before dbt's logger reports anything
            self._error_messages.append(f"{type(exc).__name__}: {exc}")


def _interrupt(process: _DbtThread) -> None:
    """What Ctrl-C does to a dbt process: cancel the running queries, and raise
    KeyboardInterrupt in dbt's thread (dbt then stops scheduling nodes and reports)."""
    with contextlib.suppress(Exception):
        from dbt.adapters.factory import FACTORY

        for adapter in list(FACTORY.adapters.values()):
            adapter.cancel_open_connections()
    if process.ident is not None and process.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(process.ident), ctypes.py_object(KeyboardInterrupt)
        )


def copy_partial_parse(project_dir: Path, target_path: Path) -> None:
    """As dagster-dbt does before a subprocess: a parse that dbt must still do in process is
    a partial one, from the project's last parse."""
    source = Path(project_dir) / "target" / PARTIAL_PARSE_FILE_NAME
    destination = target_path / PARTIAL_PARSE_FILE_NAME
    if source.exists() and not destination.exists():
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, destination)
