"""Row-level quarantine beside the findings (docs/INGESTION.md, "Row-level quarantine"): an
empty required value, a corrected version that releases a quarantined row, a bad cell in a
JSON Lines object."""

from __future__ import annotations

import json

from tests.corpus import (
    COUPONS,
    DAY,
    LEAD,
    Case,
    FileExpect,
    Landing,
    Marker,
    QuarantineExpect,
    coupon_id,
    file_name,
    lead_id,
)

REQUIRED = f"{LEAD}/{DAY}/{file_name('required_value_empty', '.csv')}"
BAD_FIRST = f"{LEAD}/{DAY}/{file_name('corrected_version_releases', '-1-bad.csv')}"
FIXED_LATER = f"{LEAD}/{DAY}/{file_name('corrected_version_releases', '-2-fixed.csv')}"
COUPON_BAD = f"{COUPONS}/{DAY}/{file_name('json_bad_cell', '.jsonl')}"


def _required_value_empty(land: Landing) -> None:
    case = "required_value_empty"
    land.write(REQUIRED, land.lead_csv([land.lead(case, 1, Company="  "), land.lead(case, 2)]))


def _corrected_version_releases(land: Landing) -> None:
    case = "corrected_version_releases"
    # Written first, so loaded first (within a delivery: the file written first).
    land.write(BAD_FIRST, land.lead_csv([land.lead(case, 1, IsConverted="perhaps")]))
    land.write(FIXED_LATER, land.lead_csv([land.lead(case, 1)]))


def _json_bad_cell(land: Landing) -> None:
    good = land.coupon("json_bad_cell", 1)
    bad = {**land.coupon("json_bad_cell", 2), "created": "yesterday"}
    land.write(COUPON_BAD, b"".join(json.dumps(o).encode() + b"\n" for o in (good, bad)))


CASES = [
    Case(
        "required_value_empty",
        "A required column (Lead `Company`) delivered blank: the row is quarantined by the "
        "`required` rule, out of raw and the marts; the file's other row publishes.",
        _required_value_empty,
        files=(FileExpect(REQUIRED, "loaded", 2, 1, 0, 2, rows_quarantined=1),),
        quarantined=(QuarantineExpect(REQUIRED, 1, "Company", "required"),),
        markers=(
            Marker(lead_id("required_value_empty", 1), in_raw=False, published=False),
            Marker(lead_id("required_value_empty", 2), in_raw=True, published=True),
        ),
    ),
    Case(
        "corrected_version_releases",
        "Re-delivering a corrected version releases the row: the first file's lead is "
        "quarantined (`perhaps` in IsConverted), a later file of the same delivery carries the "
        "same Id with a good value; that version loads and publishes, and the quarantined cell "
        "is kept, marked released.",
        _corrected_version_releases,
        files=(
            FileExpect(BAD_FIRST, "loaded", 1, 0, 0, 1, rows_quarantined=1),
            FileExpect(FIXED_LATER, "loaded", 1, 1, 0, 1),
        ),
        quarantined=(QuarantineExpect(BAD_FIRST, 1, "IsConverted", "cast:boolean", released=True),),
        markers=(Marker(lead_id("corrected_version_releases", 1), in_raw=True, published=True),),
    ),
    Case(
        "json_bad_cell",
        "A JSON Lines object (a Stripe coupon) with text in a unix_time field: quarantined "
        "like a CSV row, the good object loads (no mart lists coupons by id: published is not "
        "asserted).",
        _json_bad_cell,
        files=(FileExpect(COUPON_BAD, "loaded", 2, 1, 0, 2, rows_quarantined=1),),
        quarantined=(QuarantineExpect(COUPON_BAD, 2, "created", "cast:unix_time"),),
        markers=(
            Marker(coupon_id("json_bad_cell", 1), True, None, "stripe__coupons", "id", None),
            Marker(coupon_id("json_bad_cell", 2), False, None, "stripe__coupons", "id", None),
        ),
    ),
]
