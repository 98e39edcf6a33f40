"""Freshness against the data: how far each source's newest loaded delivery is behind the
newest delivery in the landing folder (or an explicit `--as-of` date), never the wall clock.

One rule for everyone that judges staleness: the ingestion assets' freshness checks (what the
CLI prints), the published snapshot's `revops_sources.is_stale` (what the report shows), a
no-op refresh and the alert payload all call `is_stale` with the same reference date.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from revops import contract
from revops.ingest.landing import parse_delivery_date

# A source whose newest loaded delivery is this many days or more behind the reference date is
# stale (exports are daily: one missed day is normal, two are not). The freshness check's
# `max_delivery_age_days` run config changes it per run.
DEFAULT_MAX_DELIVERY_AGE_DAYS = 2


def newest_delivery(landing: Path) -> dt.date | None:
    """The newest `YYYY-MM-DD` delivery folder of any contract object in the landing folder
    (folder names only: one directory listing per object, no file is opened)."""
    newest = None
    for obj in contract.OBJECTS:
        try:
            names = os.listdir(Path(landing) / obj.source / obj.name)
        except OSError:
            continue
        # `YYYY-MM-DD` names sort as their dates: parse from the greatest down to the first
        # valid one (every ingestion step asks, over folders of a thousand days each).
        for name in sorted(names, reverse=True):
            day = parse_delivery_date(name)
            if day is not None:
                if newest is None or day > newest:
                    newest = day
                break
    return newest


def reference_date(landing: Path | None, as_of: dt.date | str | None = None) -> dt.date | None:
    """What staleness is measured against: `as_of` when given, else the landing folder's
    newest delivery (None when the folder has none: nothing can be judged stale)."""
    if as_of:
        return as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    return newest_delivery(landing) if landing is not None else None


def days_behind(latest: dt.date | None, reference: dt.date | None) -> int | None:
    """Days from a source's newest loaded delivery to the reference date (None: unknown)."""
    if latest is None or reference is None:
        return None
    return (reference - latest).days


def cadence_days(folder: str | None) -> int:
    """The contract's delivery cadence of `source/Object` in whole days (its warning bound,
    the one dbt's source freshness and the Dagster freshness checks use); 0 when unknown."""
    bound = contract.CADENCE.get(folder) if folder else None
    return -(-bound.warn_after_hours // 24) if bound else 0


def allowed_days(max_age_days: int, longest_gap: int | None, folder: str | None = None) -> int:
    """How far behind an object may be: `max_age_days`, the contract's delivery cadence of the
    object, or its own longest gap between two deliveries, whichever is longest (an
    incremental export delivers only on days something changed: a price list that changed
    twice in a year is not stale after a quiet week; quotas arrive once a quarter)."""
    return max(max_age_days, longest_gap or 0, cadence_days(folder))


def is_stale(
    latest: dt.date | None,
    reference: dt.date | None,
    max_age_days: int = DEFAULT_MAX_DELIVERY_AGE_DAYS,
    optional: bool = False,
    longest_gap: int | None = None,
    deliveries: int | None = None,
    folder: str | None = None,
) -> bool:
    """True when a required source's newest loaded delivery is more than
    `allowed_days(max_age_days, longest_gap, folder)` behind the reference date, or it never
    delivered. An optional object (delivered when it changes, if ever) is never stale, nor is
    one delivered on a single day (no rhythm to judge it by: the report shows its date); with
    no reference (no delivery in the landing folder), only a never-delivered one is."""
    if optional:
        return False
    if latest is None:
        return True
    if reference is None or deliveries == 1:
        return False
    return (reference - latest).days > allowed_days(max_age_days, longest_gap, folder)


# Per object: the newest loaded delivery, the number of delivery days, and the longest gap in
# days between two consecutive delivery days (null with fewer than two), from the load ledger.
RHYTHM_SQL = """
with days as (
    select distinct source, object, delivery_date
    from {ledger}
    where status = 'loaded' and delivery_date is not null
),

gaps as (
    select
        source,
        object,
        delivery_date,
        delivery_date - lag(delivery_date) over (
            partition by source, object order by delivery_date
        ) as gap_days
    from days
)

select
    source || '/' || object as folder,
    max(delivery_date) as latest_delivery_date,
    count(*) as delivery_days,
    max(gap_days) as longest_gap_days
from gaps
group by source, object
"""


@dataclass(frozen=True)
class Rhythm:
    """An object's deliveries as the ledger has them."""

    latest: dt.date | None
    deliveries: int
    longest_gap: int | None


def delivery_rhythm(
    con, ledger: str = "raw._load_ledger", obj: contract.ExportObject | None = None
) -> dict[str, Rhythm]:
    """`source/Object` -> its Rhythm, for every object with a loaded delivery (only `obj`'s
    when given: an ingestion step needs its own, at a tenth of the cost of all of them)."""
    if obj is not None:
        source, name = (v.replace("'", "''") for v in (obj.source, obj.name))
        ledger = f"(select * from {ledger} where source = '{source}' and object = '{name}')"
    rows = con.execute(RHYTHM_SQL.format(ledger=ledger)).fetchall()
    return {
        folder: Rhythm(latest, int(days), int(gap) if gap is not None else None)
        for folder, latest, days, gap in rows
    }


def rhythm(delivery_dates: Iterable[dt.date]) -> Rhythm | None:
    """The Rhythm of one object from the delivery days of its loaded files (what `RHYTHM_SQL`
    computes from the ledger; None without any), for a caller that has read them already."""
    days = sorted(set(delivery_dates))
    if not days:
        return None
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    return Rhythm(days[-1], len(days), max(gaps) if gaps else None)


@dataclass(frozen=True)
class StaleSource:
    """A source object that is behind: `salesforce/Lead`, its newest loaded delivery, and by
    how many days it trails the reference date."""

    folder: str
    latest_delivery_date: dt.date | None
    days_behind: int | None

    def describe(self) -> str:
        if self.latest_delivery_date is None:
            return f"{self.folder} (never delivered)"
        return f"{self.folder} (latest {self.latest_delivery_date}, {self.days_behind} days behind)"

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.folder,
            "latest_delivery_date": (
                self.latest_delivery_date.isoformat() if self.latest_delivery_date else None
            ),
            "days_behind": self.days_behind,
        }


def loaded_sources(con, ledger: str = "raw._load_ledger") -> set[str]:
    """The sources with a loaded delivery: the keys' sources of `delivery_rhythm`."""
    rows = con.execute(
        f"select distinct source from {ledger} "
        "where status = 'loaded' and delivery_date is not null"
    ).fetchall()
    return {source for (source,) in rows}


def alternative_sources_in_landing(landing: Path) -> set[str]:
    """The sources of contract.ALTERNATIVE_SOURCES (the CRMs) with a file in the landing
    folder: what one ingestion step knows of the other CRM before that CRM's step has run."""
    return {
        source
        for group in contract.ALTERNATIVE_SOURCES
        for source in group
        if any(path.is_file() for path in (Path(landing) / source).glob("*/*/*"))
    }


def stale_sources(
    latest_by_folder: dict[str, dt.date | None],
    reference: dt.date | None,
    max_age_days: int = DEFAULT_MAX_DELIVERY_AGE_DAYS,
    rhythms: dict[str, Rhythm] | None = None,
) -> list[StaleSource]:
    """Every stale contract object of `latest_by_folder` (`source/Object` -> newest loaded
    delivery), by folder name; `rhythms` gives each object's delivery days and longest gap."""
    delivered = {folder.split("/")[0] for folder, latest in latest_by_folder.items() if latest}
    optional = {o.folder: not o.expected(delivered) for o in contract.OBJECTS}
    rhythms = rhythms or {}
    out = []
    for folder, latest in sorted(latest_by_folder.items()):
        rhythm = rhythms.get(folder)
        gap = rhythm.longest_gap if rhythm else None
        days = rhythm.deliveries if rhythm else None
        if is_stale(
            latest, reference, max_age_days, optional.get(folder, False), gap, days, folder
        ):
            out.append(StaleSource(folder, latest, days_behind(latest, reference)))
    return out


def warning_line(stale: list[StaleSource], reference: dt.date | None, max_age_days: int) -> str:
    """The one warning the CLI prints and the report shows, naming every stale source."""
    return (
        f"{len(stale)} source(s) more than {max_age_days} day(s) (or their contract cadence, "
        f"or their own longest gap between deliveries) behind the newest delivery ({reference}): "
        + ", ".join(s.describe() for s in stale)
    )
