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
    faults.append(_test_accounts_fault(test_leads, _add_test_customer(rng, root)))

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


# --- HubSpot (`--crm hubspot --dirty`) ----------------------------------------------------

HUBSPOT_CONTACTS = "hubspot/contacts"
MERGED_CONTACT_BASE = 1_500_000_000  # exports_hubspot.ID_BASE["merged_contact"]
TEST_CONTACT_BASE = 1_900_000_000  # exports_hubspot.ID_BASE["test_contact"]


def _json_line(obj: dict) -> str:
    """A line as the export writes it (compact, keys in their order, UTF-8)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"


def apply_hubspot_faults(root: Path, seed: int, scale_rows: int) -> list[dict]:
    """The faults of `apply_faults` where a HubSpot export can have them (JSON Lines: a
    renamed CSV header cannot happen, and is listed as skipped), and merged contacts: a
    duplicate contact for one person, later absorbed by the original (`hs_merged_object_ids`
    on the survivor from the merge on; the absorbed record is not sent again)."""
    rng = np.random.default_rng(seed + 7919)
    faults: list[dict] = []
    k = max(2, min(25, scale_rows // 2000))
    contact_files = _files(root, HUBSPOT_CONTACTS)

    # 1. exact duplicate lines inside a file
    touched = []
    for f in _pick(rng, contact_files, k) + _pick(
        rng, _files(root, "marketing_automation/activities"), k
    ):
        lines = _read_lines(f)
        first = 0 if f.suffix == ".jsonl" else 1
        if len(lines) <= first:
            continue
        i = int(rng.integers(first, len(lines)))
        lines.insert(i + 1, lines[i])
        _write_lines(f, lines)
        touched.append(str(f.relative_to(root)))
    faults.append(
        {
            "fault": "duplicate_rows",
            "files": touched,
            "rows": len(touched),
            "expected": "loaded to raw as delivered; staging keeps one row per record version",
        }
    )

    # 2. a re-sent file (deals, in a later delivery; a Stripe invoices file, in the same one)
    resent = []
    deal_days = sorted((root / "hubspot/deals").iterdir())
    for f in _pick(rng, _files(root, "hubspot/deals")[:-3], 2):
        later = [p for p in deal_days if p.name > f.parent.name]
        target_dir = later[min(2, len(later) - 1)] if later else f.parent
        copy = target_dir / f"{f.stem} (1){f.suffix}"
        shutil.copyfile(f, copy)
        resent.append({"original": str(f.relative_to(root)), "copy": str(copy.relative_to(root))})
    for f in _pick(rng, _files(root, "stripe/invoices"), 1):
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

    # 3. late-arriving updates: contact versions delivered days after newer ones
    moved = 0
    late_files = []
    day_dirs = sorted((root / HUBSPOT_CONTACTS).iterdir())
    for f in _pick(rng, contact_files[:-5], k):
        lines = _read_lines(f)
        if len(lines) < 2:
            continue
        row = lines.pop(int(rng.integers(0, len(lines))))
        _write_lines(f, lines)
        pos = day_dirs.index(f.parent)
        target = day_dirs[min(pos + 3, len(day_dirs) - 1)] / "contacts_late.jsonl"
        with target.open("a", encoding="utf-8") as out:
            out.write(row)
        moved += 1
        late_files.append(str(target.relative_to(root)))
    faults.append(
        {
            "fault": "late_arriving_updates",
            "files": sorted(set(late_files)),
            "rows": moved,
            "expected": "the version with the latest updatedAt wins, whatever the delivery",
        }
    )

    # 4. malformed lines: broken JSON in companies and Stripe charges
    malformed = []
    for folder in ("hubspot/companies", "stripe/charges"):
        for f in _pick(rng, _files(root, folder), max(1, k // 2)):
            lines = _read_lines(f)
            if not lines:
                continue
            lines.insert(1, lines[0][: len(lines[0]) // 2].rstrip() + "\n")
            _write_lines(f, lines)
            malformed.append(
                {"file": str(f.relative_to(root)), "line": 2, "problem": "invalid JSON"}
            )
    faults.append(
        {
            "fault": "malformed_rows",
            "rows": malformed,
            "expected": "each malformed row goes to raw._rejects with file, line and error; "
            "the rest of the file loads",
        }
    )

    # 5. a renamed CSV column: JSON objects name their properties, there is no header
    faults.append(
        {
            "fault": "renamed_column",
            "files": [],
            "skipped": "hubspot",
            "expected": "not applied: HubSpot's JSON Lines have no header to rename",
        }
    )

    # 6. test and internal contacts, and a Stripe test customer
    test_contacts = []
    for i, f in enumerate(_pick(rng, contact_files, k)):
        lines = _read_lines(f)
        obj = json.loads(lines[0])
        domain = "example.com" if i % 2 == 0 else INTERNAL_DOMAIN
        contact_id = str(TEST_CONTACT_BASE + i)
        props = {key: None for key in obj["properties"]}
        props.update(
            {
                "email": f"qa+{i}@{domain}",
                "firstname": "Test",
                "lastname": f"Account {i}",
                "company": "Test Account" if i % 2 == 0 else "Northwind (internal)",
                "lifecyclestage": "marketingqualifiedlead",
                "createdate": obj["createdAt"],
                "lastmodifieddate": obj["createdAt"],
                "hs_lifecyclestage_marketingqualifiedlead_date": obj["createdAt"],
            }
        )
        history = {
            "lifecyclestage": [
                {
                    "value": "marketingqualifiedlead",
                    "timestamp": obj["createdAt"],
                    "sourceType": "CRM_UI",
                    "sourceId": None,
                    "updatedByUserId": None,
                }
            ],
            "hs_lead_status": [],
        }
        obj.update(
            {
                "id": contact_id,
                "properties": props,
                "propertiesWithHistory": history,
                "associations": None,
                "updatedAt": obj["createdAt"],
                "archived": False,
                "archivedAt": None,
            }
        )
        lines.append(_json_line(obj))
        _write_lines(f, lines)
        test_contacts.append(contact_id)
    faults.append(_test_accounts_fault(test_contacts, _add_test_customer(rng, root)))

    # 7. stray white space and case in emails (contacts' email property, activities)
    messy = 0
    messy_files = []
    for f in _pick(rng, contact_files, k):
        out = []
        for line in _read_lines(f):
            obj = json.loads(line)
            email = obj["properties"].get("email")
            if email and rng.random() < 0.3:
                obj["properties"]["email"] = f"  {email.title()} "
                line = _json_line(obj)
                messy += 1
            out.append(line)
        _write_lines(f, out)
        messy_files.append(str(f.relative_to(root)))
    for f in _pick(rng, _files(root, "marketing_automation/activities"), k):
        lines = _read_lines(f)
        header = next(csv.reader(io.StringIO(lines[0])))
        col = [h.lower() for h in header].index("email")
        out = [lines[0]]
        for line in lines[1:]:
            row = next(csv.reader(io.StringIO(line)))
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

    # 8. merged contacts: a duplicate created for the same person, absorbed two days later
    faults.append(_merge_contacts(root, rng, k, day_dirs))
    return faults


def _merge_contacts(root: Path, rng: np.random.Generator, k: int, day_dirs: list[Path]) -> dict:
    merges = []
    # survivors: contacts created in the first two thirds of the history, not archived
    candidates = []
    for f in sorted(day_dirs[: len(day_dirs) * 2 // 3]):
        path = f / "contacts.jsonl"
        if not path.exists():
            continue
        for line in _read_lines(path):
            obj = json.loads(line)
            if obj["createdAt"] == obj["updatedAt"] and not obj["archived"]:
                candidates.append((f, obj))
    for j, (day_dir, obj) in enumerate(_pick(rng, candidates, k)):
        survivor = obj["id"]
        absorbed = str(MERGED_CONTACT_BASE + j)
        pos = day_dirs.index(day_dir)
        merge_dir = day_dirs[min(pos + 2, len(day_dirs) - 1)]
        # the duplicate: the same person under a personal address, created an hour later
        created = _shift_iso(obj["createdAt"], 3600)
        dup = json.loads(json.dumps(obj))
        local = obj["properties"]["email"].split("@", 1)[0]
        dup["id"] = absorbed
        dup["properties"]["email"] = f"{local}@gmail.com"
        for key in ("createdate", "lastmodifieddate"):
            dup["properties"][key] = created
        for key, value in list(dup["properties"].items()):
            if key.startswith("hs_lifecyclestage_") and value is not None:
                dup["properties"][key] = created
        for changes in dup["propertiesWithHistory"].values():
            for change in changes:
                change["timestamp"] = created
        dup["createdAt"] = dup["updatedAt"] = created
        with (day_dir / "contacts.jsonl").open("a", encoding="utf-8") as out:
            out.write(_json_line(dup))
        # the survivor: a version at the merge, and every later version, name the absorbed id
        merged_at = merge_dir.name + "T23:00:00.000Z"
        latest = obj
        for d in day_dirs[pos:]:
            for path in sorted(d.glob("*.jsonl")):
                lines = _read_lines(path)
                changed = False
                for i, line in enumerate(lines):
                    if not line.startswith(f'{{"id":"{survivor}"'):
                        continue
                    rec = json.loads(line)
                    if rec["updatedAt"] < merged_at:
                        latest = rec if rec["updatedAt"] >= latest["updatedAt"] else latest
                        continue
                    rec["properties"]["hs_merged_object_ids"] = absorbed
                    lines[i] = _json_line(rec)
                    changed = True
                if changed:
                    _write_lines(path, lines)
        if latest["archived"]:
            continue
        version = json.loads(json.dumps(latest))
        version["properties"]["hs_merged_object_ids"] = absorbed
        version["properties"]["lastmodifieddate"] = merged_at
        version["updatedAt"] = merged_at
        with (merge_dir / "contacts.jsonl").open("a", encoding="utf-8") as out:
            out.write(_json_line(version))
        merges.append(
            {
                "survivor": survivor,
                "absorbed": absorbed,
                "merged_at": merged_at,
                "files": [
                    str((day_dir / "contacts.jsonl").relative_to(root)),
                    str((merge_dir / "contacts.jsonl").relative_to(root)),
                ],
            }
        )
    return {
        "fault": "merged_contacts",
        "merges": merges,
        "expected": "the absorbed contact is no lead of its own: the survivor (whose "
        "hs_merged_object_ids names it) is the one person, counted once",
    }


def _shift_iso(value: str, seconds: int) -> str:
    import datetime as dt

    t = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ") + dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _add_test_customer(rng: np.random.Generator, root: Path) -> list[str]:
    """A QA test customer (internal email domain) appended to one Stripe customers file; its
    id in a list."""
    test_customers = []
    for f in _pick(rng, _files(root, "stripe/customers"), 1):
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
    return test_customers


def _test_accounts_fault(leads: list[str], customers: list[str]) -> dict:
    """The `test_accounts` fault's entry in truth.json."""
    return {
        "fault": "test_accounts",
        "leads": leads,
        "customers": customers,
        "excluded_email_domains": list(TEST_EMAIL_DOMAINS),
        "expected": "excluded from every mart through the configurable exclusion list",
    }
