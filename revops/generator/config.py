"""Generator settings: scales, dates, seed and the business assumptions the simulation uses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from revops.generator import profiles

# Target number of leads over the default three-year history.
SCALES: dict[str, int] = {"xs": 2_000, "s": 20_000, "m": 200_000, "l": 2_000_000}

DEFAULT_START = dt.date(2023, 1, 1)
DEFAULT_DAYS = 1095
DEFAULT_SEED = 42
REPORTING_CURRENCY = "USD"
# The CRMs the generator can export the company from (`revops generate --crm`).
CRMS = ("salesforce", "hubspot")


@dataclass(frozen=True)
class GeneratorConfig:
    out: Path
    leads: int = SCALES["s"]
    # None: the org profile's own history if it has one, else DEFAULT_START / DEFAULT_DAYS
    start_date: dt.date | None = None
    days: int | None = None
    seed: int = DEFAULT_SEED
    dirty: bool = False
    progress: bool = False
    org_profile: str = profiles.DEFAULT_PROFILE
    # the last delivery day to write (`revops generate --until`); None: the whole history.
    # The company is always simulated over its whole history, so a folder extended day by day
    # ends up with the very files one generation to that day writes.
    until: dt.date | None = None
    # which CRM's exports hold the company's CRM records; marketing, ads, Stripe and the
    # reference files are the same either way (Stripe and quotas name the CRM's ids)
    crm: str = "salesforce"

    def __post_init__(self) -> None:
        profile = profiles.get(self.org_profile)
        if self.start_date is None:
            object.__setattr__(self, "start_date", profile.start_date or DEFAULT_START)
        if self.days is None:
            object.__setattr__(self, "days", profile.days or DEFAULT_DAYS)
        if self.crm not in CRMS:
            raise ValueError(f"--crm must be one of {', '.join(CRMS)}, got {self.crm!r}")
        if self.leads < 50:
            raise ValueError(f"--leads must be at least 50, got {self.leads}")
        if not 31 <= self.days <= 3660:
            raise ValueError(f"--days must be between 31 and 3660, got {self.days}")
        if self.until is not None and not self.start_date <= self.until <= self.end_date:
            raise ValueError(
                f"--until {self.until} is outside the company's history, {self.start_date} to "
                f"{self.end_date}: a longer history (--days) is another company"
            )

    @property
    def profile(self) -> profiles.OrgProfile:
        return profiles.get(self.org_profile)

    @property
    def end_date(self) -> dt.date:
        """The last simulated day (inclusive)."""
        return self.start_date + dt.timedelta(days=self.days - 1)

    @property
    def start_ts(self) -> int:
        return _epoch(self.start_date)

    @property
    def end_ts(self) -> int:
        """First second after the simulated history: nothing at or after it is exported."""
        return _epoch(self.end_date) + 86_400


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
