"""Which simulated company a landing folder holds, and how far its deliveries go.

The generator records both in `.revops-generator.json` inside the landing folder (hidden:
ingestion and the landing sensor never look at it). `revops generate --until DATE` reads it to
write the next days of the same company, and refuses to write into a folder that holds another
company's files, or files it did not write.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from revops.generator.config import SCALES, GeneratorConfig

MANIFEST_FILE = ".revops-generator.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Company:
    """What makes two generations the same company: same arguments, same simulation."""

    seed: int
    leads: int
    org_profile: str
    start_date: dt.date
    days: int
    dirty: bool
    crm: str = "salesforce"

    @classmethod
    def of(cls, config: GeneratorConfig) -> Company:
        assert config.start_date is not None and config.days is not None  # set by the config
        return cls(
            seed=config.seed,
            leads=config.leads,
            org_profile=config.org_profile,
            start_date=config.start_date,
            days=config.days,
            dirty=config.dirty,
            crm=config.crm,
        )

    @property
    def end_date(self) -> dt.date:
        return self.start_date + dt.timedelta(days=self.days - 1)

    def describe(self) -> str:
        scale = next((name for name, n in SCALES.items() if n == self.leads), None)
        size = f"scale {scale}" if scale else f"{self.leads:,} leads"
        return (
            f"seed {self.seed}, {size}, org profile {self.org_profile}, "
            f"{self.start_date} to {self.end_date}{', dirty' if self.dirty else ''}"
            f"{'' if self.crm == 'salesforce' else f', exported from {self.crm}'}"
        )

    def to_json(self) -> dict:
        return {**asdict(self), "start_date": self.start_date.isoformat()}

    @classmethod
    def from_json(cls, data: dict) -> Company:
        return cls(
            seed=int(data["seed"]),
            leads=int(data["leads"]),
            org_profile=str(data["org_profile"]),
            start_date=dt.date.fromisoformat(data["start_date"]),
            days=int(data["days"]),
            dirty=bool(data["dirty"]),
            # manifests written before `--crm` hold Salesforce companies
            crm=str(data.get("crm", "salesforce")),
        )


@dataclass(frozen=True)
class Manifest:
    company: Company
    delivered_through: dt.date  # the last delivery day written into the folder


class AnotherCompanyError(ValueError):
    """The landing folder holds files of another company (or files the generator did not
    write): generating into it would mix two companies in one warehouse."""


def read_manifest(out: Path) -> Manifest | None:
    """The folder's manifest, or None when it has none. A manifest that cannot be read raises
    ValueError naming the file."""
    path = out / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return Manifest(
            company=Company.from_json(data["company"]),
            delivered_through=dt.date.fromisoformat(data["delivered_through"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a generator manifest ({type(exc).__name__}: {exc})") from exc


def write_manifest(out: Path, manifest: Manifest) -> None:
    data = {
        "manifest_version": MANIFEST_VERSION,
        "company": manifest.company.to_json(),
        "delivered_through": manifest.delivered_through.isoformat(),
    }
    tmp = out / (MANIFEST_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, out / MANIFEST_FILE)


def _visible_entries(out: Path) -> list[str]:
    if not out.is_dir():
        return []
    return sorted(e.name for e in os.scandir(out) if not e.name.startswith("."))


def check_folder(out: Path, company: Company) -> Manifest | None:
    """The manifest of `out` when it holds `company` (None when `out` is empty or missing).

    Raises AnotherCompanyError, naming the folder and both companies, when it holds another
    company, or files and no manifest."""
    manifest = read_manifest(out)
    entries = _visible_entries(out)
    if manifest is None:
        if not entries:
            return None
        more = f" and {len(entries) - 5} more" if len(entries) > 5 else ""
        shown = ", ".join(entries[:5]) + more
        raise AnotherCompanyError(
            f"the landing folder {out} is not empty ({shown}) and has no {MANIFEST_FILE}: its "
            f"files are not a generated company this generator can extend. Generating "
            f"{company.describe()} into it would mix two companies; choose another --out, or "
            "empty the folder first (and `revops reset` the warehouse built from it)."
        )
    if manifest.company != company:
        raise AnotherCompanyError(
            f"the landing folder {out} holds another company: {manifest.company.describe()} "
            f"(delivered through {manifest.delivered_through}), not {company.describe()}. "
            "Generating into it would mix two companies; use the same arguments (or none but "
            "--until) to extend it, or choose another --out."
        )
    return manifest
