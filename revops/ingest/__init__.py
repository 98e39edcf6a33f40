"""Lossless, idempotent ingestion of the landing folder into the warehouse's `raw` schema.

    from revops.ingest import ingest_landing
    summary = ingest_landing(Path("data/landing"), Path("data/warehouse.duckdb"))
    print(summary.format_table())

Each contract object's delivery files land in `raw.<source>__<object lower>` as text, with
lineage columns; `raw._load_ledger` records every file attempt and `raw._rejects` every row
that could not load. docs/INGESTION.md describes the rules.
"""

from revops.ingest.landing import DeliveryFile, fingerprint, scan_object, unknown_entries
from revops.ingest.ledger import (
    LedgerCounts,
    OpenFailure,
    ledger_counts,
    open_failures,
    read_open_failures,
    read_run_counts,
)
from revops.ingest.loader import (
    MAX_BATCH_BYTES,
    MAX_BATCH_FILES,
    forget_file,
    ingest_landing,
    ingest_object,
    load_object,
    new_load_id,
    resolve_objects,
)
from revops.ingest.summary import (
    DUPLICATE,
    FAILED,
    LOADED,
    SOURCE_OPTIONAL_NOT_DELIVERED,
    FileResult,
    IngestSummary,
    ObjectSummary,
    source_status,
    unknown_path_warning,
)
from revops.ingest.warehouse import (
    LEDGER_TABLE,
    LINEAGE_COLUMNS,
    RAW_SCHEMA,
    REJECTS_TABLE,
    connect,
    ensure_warehouse,
)

__all__ = [
    "DUPLICATE",
    "FAILED",
    "LEDGER_TABLE",
    "LINEAGE_COLUMNS",
    "LOADED",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_FILES",
    "RAW_SCHEMA",
    "REJECTS_TABLE",
    "SOURCE_OPTIONAL_NOT_DELIVERED",
    "DeliveryFile",
    "FileResult",
    "IngestSummary",
    "LedgerCounts",
    "ObjectSummary",
    "OpenFailure",
    "connect",
    "ensure_warehouse",
    "fingerprint",
    "forget_file",
    "ingest_landing",
    "ingest_object",
    "ledger_counts",
    "load_object",
    "new_load_id",
    "open_failures",
    "read_open_failures",
    "read_run_counts",
    "resolve_objects",
    "scan_object",
    "source_status",
    "unknown_entries",
    "unknown_path_warning",
]
