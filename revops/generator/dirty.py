"""`--dirty`: the faults real exports have, applied to the written files and listed in
truth.json so tests can check that each one is handled. None of them changes the truth:
every fault adds, repeats, delays or reshapes data; none removes a real record version.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np

# Configurable exclusion list the models use (mirrored in the dbt seed of excluded accounts).
TEST_EMAIL_DOMAINS = ("example.com", "northwind.io")
INTERNAL_DOMAIN = "northwind.io"


def _files(root: Path, folder: str) -> list[Path]:
    return sorted((root / folder).glob("*/*.*"))


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def _csv_line(row: list[str]) -> str:
    """A CSV line as the exports write it: every value quoted, empty values left empty."""
    return ",".join('"' + v.replace('"', '""') + '"' if v != "" else "" for v in row) + "\n"


def _pick(rng: np.random.Generator, items: list, k: int) -> list:
    if not items:
        return []
    idx = np.sort(rng.choice(len(items), size=min(k, len(items)), replace=False))
    return [items[i] for i in idx]


def apply_faults(
    root: Path, seed: int, scale_rows: int, mql_status: str = "Marketing Qualified"
) -> list[dict]:
    """Add the faults; headers may be in any case (an org profile writes some upper case)."""
    rng = np.random.default_rng(seed + 7919)
    faults: list[dict] = []
    k = max(2, min(25, scale_rows // 2000))

    # 1. exact duplicate rows inside a file
    dup_files = _pick(rng, _files(root, "salesforce/Lead"), k) + _pick(
        rng, _files(root, "marketing_automation/activities"), k
    )
    dup_rows = 0
    touched = []
    for f in dup_files:
        lines = _read_lines(f)
        if len(lines) < 2:
            continue
        i = int(rng.integers(1, len(lines)))
        lines.insert(i + 1, lines[i])
        _write_lines(f, lines)
        dup_rows += 1
        touched.append(str(f.relative_to(root)))
    faults.append(
        {
            "fault": "duplicate_rows",
            "files": touched,
            "rows": dup_rows,
            "expected": "loaded to raw as delivered; staging keeps one row per record version",
        }
    )

    # 2. a re-sent file: the same bytes again, under another name and in a later delivery
    candidates = _files(root, "salesforce/Opportunity")
    resent = []
    for f in _pick(rng, candidates[:-3], 2):
        later = sorted(
            p for p in (root / "salesforce/Opportunity").iterdir() if p.name > f.parent.name
        )
        target_dir = later[min(2, len(later) - 1)] if later else f.parent
        copy = target_dir / f"{f.stem} (1){f.suffix}"
        shutil.copyfile(f, copy)
        resent.append({"original": str(f.relative_to(root)), "copy": str(copy.relative_to(root))})
    same_folder = _pick(rng, _files(root, "stripe/invoices"), 1)
    for f in same_folder:
        copy = f.parent / f"{f.stem}-resend{f.suffix}"
        shutil.copyfile(f, copy)
        resent.append({"original": str(f.relative_to(root)), "copy": str(copy.relative_to(root))})
    faults.append(
        {
            "fault": "resent_file",
            "files": resent,
            "expected": "the copy has the original's sha256: skipped and recorded as duplicate",
        }
    )

    # 3. late-arriving updates: record versions delivered days after newer ones
    lead_files = _files(root, "salesforce/Lead")
    moved = 0
    late_files = []
    for f in _pick(rng, lead_files[:-5], k):
        lines = _read_lines(f)
        if len(lines) < 3:
            continue
        row = lines.pop(int(rng.integers(1, len(lines))))
        _write_lines(f, lines)
        day_dirs = sorted((root / "salesforce/Lead").iterdir())
        pos = day_dirs.index(f.parent)
        target = day_dirs[min(pos + 3, len(day_dirs) - 1)] / "Lead_late.csv"
        if not target.exists():
            target.write_text(lines[0], encoding="utf-8")
        with target.open("a", encoding="utf-8") as out:
            out.write(row)
        moved += 1
        late_files.append(str(target.relative_to(root)))
    faults.append(
        {
            "fault": "late_arriving_updates",
            "files": sorted(set(late_files)),
            "rows": moved,
            "expected": "the version with the latest LastModifiedDate wins, whatever the delivery",
        }
    )

    # 4. malformed rows: extra fields, an unterminated quote, broken JSON
    malformed = []
    for f in _pick(rng, _files(root, "salesforce/Contact"), max(1, k // 2)):
        lines = _read_lines(f)
        if len(lines) < 2:
            continue
        broken = lines[1].rstrip("\n") + ',"unexpected","fields"\n'
        lines.insert(2, broken)
        _write_lines(f, lines)
        malformed.append(
            {"file": str(f.relative_to(root)), "line": 3, "problem": "too many fields"}
        )
    for f in _pick(rng, _files(root, "stripe/charges"), max(1, k // 2)):
        lines = _read_lines(f)
        if not lines:
            continue
        cut = lines[0][: len(lines[0]) // 2].rstrip() + "\n"
        lines.insert(1, cut)
        _write_lines(f, lines)
        malformed.append({"file": str(f.relative_to(root)), "line": 2, "problem": "invalid JSON"})
    faults.append(
        {
            "fault": "malformed_rows",
            "rows": malformed,
            "expected": "each malformed row goes to raw._rejects with file, line and error; "
            "the rest of the file loads",
        }
    )

    # 5. a renamed column in one delivery (an optional field renamed by an admin)
    renamed = []
    for f in _pick(rng, lead_files[len(lead_files) // 2 :], 1):
        lines = _read_lines(f)
        header = next(csv.reader(io.StringIO(lines[0])))
        renamed_title = {"Title": "JobTitle", "TITLE": "JOBTITLE"}
        lines[0] = _csv_line([renamed_title.get(h, h) for h in header])
        _write_lines(f, lines)
        renamed.append(str(f.relative_to(root)))
    faults.append(
        {
            "fault": "renamed_column",
            "files": renamed,
            "column": {"from": "Title", "to": "JobTitle"},
            "expected": "JobTitle is kept as an extra raw column; Title is null for those rows",
        }
    )

    # 6. test and internal accounts: leads and a billing customer to exclude
    test_leads = []
    for i, f in enumerate(_pick(rng, lead_files, k)):
        lines = _read_lines(f)
        row = next(csv.reader(io.StringIO(lines[1])))
        header = next(csv.reader(io.StringIO(lines[0])))
        canon = {h.lower(): h for h in header}
        rec = {h.lower(): v for h, v in zip(header, row, strict=True)}
        lead_id = f"00Q5g0TEST{i:05d}AAA"
        domain = "example.com" if i % 2 == 0 else INTERNAL_DOMAIN
        changes = {
            "Id": lead_id,
            "FirstName": "Test",
            "LastName": f"Account {i}",
            "Email": f"qa+{i}@{domain}",
            "Company": "Test Account" if i % 2 == 0 else "Northwind (internal)",
            "Status": mql_status,
            "IsConverted": "false",
            "ConvertedDate": "",
            "ConvertedAccountId": "",
            "ConvertedContactId": "",
            "ConvertedOpportunityId": "",
            "IsDeleted": "false",
        }
        rec.update({k.lower(): v for k, v in changes.items()})
        rec["lastmodifieddate"] = rec["createddate"]
        lines.append(_csv_line([rec.get(h.lower(), "") for h in canon.values()]))
        _write_lines(f, lines)
        test_leads.append(lead_id)
    cust_files = _files(root, "stripe/customers")
    test_customers = []
    for f in _pick(rng, cust_files, 1):
        lines = _read_lines(f)
        obj = json.loads(lines[0])
        obj.update(
            {
                "id": "cus_TESTqa0000001",
                "email": f"billing-qa@{INTERNAL_DOMAIN}",
                "name": "TEST CUSTOMER",
                "metadata": {},
            }
        )
        lines.append(json.dumps(obj, separators=(",", ":")) + "\n")
        _write_lines(f, lines)
        test_customers.append(obj["id"])
    faults.append(
        {
            "fault": "test_accounts",
            "leads": test_leads,
            "customers": test_customers,
            "excluded_email_domains": list(TEST_EMAIL_DOMAINS),
            "expected": "excluded from every mart through the configurable exclusion list",
        }
    )

    # 7. stray white space and case in emails
    messy = 0
    messy_files = []
    for f in _pick(rng, _files(root, "marketing_automation/activities"), k) + _pick(
        rng, lead_files, k
    ):
        lines = _read_lines(f)
        header = next(csv.reader(io.StringIO(lines[0])))
        col = [h.lower() for h in header].index("email")
        out = [lines[0]]
        for line in lines[1:]:
            try:
                row = next(csv.reader(io.StringIO(line)))
            except StopIteration:
                out.append(line)
                continue
            if len(row) == len(header) and row[col] and rng.random() < 0.3:
                row[col] = f"  {row[col].title()} "
                line = _csv_line(row)
                messy += 1
            out.append(line)
        _write_lines(f, out)
        messy_files.append(str(f.relative_to(root)))
    faults.append(
        {
            "fault": "email_case_and_whitespace",
            "files": messy_files,
            "rows": messy,
            "expected": "staging lower-cases and trims emails; identity matching is unaffected",
        }
    )
    return faults
