"""Vectorised helpers shared by the simulation modules: ids, calendars and random draws."""

from __future__ import annotations

import numpy as np

DAY = 86_400
NAT = np.iinfo(np.int64).max  # "never": an event that does not happen inside the history

_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
_SF_SUFFIX = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", np.uint8)


def _base62(values: np.ndarray, width: int) -> np.ndarray:
    """Fixed-width base-62 digits of non-negative integers, as a (n, width) uint8 array."""
    values = np.asarray(values, dtype=np.uint64).copy()
    out = np.empty((values.size, width), dtype=np.uint8)
    for pos in range(width - 1, -1, -1):
        out[:, pos] = _B62[(values % 62).astype(np.int64)]
        values //= 62
    return out


def _to_str(chars: np.ndarray) -> np.ndarray:
    width = chars.shape[1]
    return np.ascontiguousarray(chars).view(f"S{width}").ravel().astype(f"U{width}")


def scramble(values: np.ndarray, salt: int) -> np.ndarray:
    """A bijective mix of 64-bit integers (splitmix64 finaliser) so ids look random."""
    with np.errstate(over="ignore"):
        z = np.asarray(values, dtype=np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def sf_ids(prefix: str, numbers: np.ndarray) -> np.ndarray:
    """18-character Salesforce ids: 3-char key prefix, pod, 9 base-62 digits, case-safe suffix."""
    numbers = np.asarray(numbers, dtype=np.int64)
    head = np.frombuffer((prefix + "5g00").encode(), np.uint8)
    body = np.empty((numbers.size, 15), dtype=np.uint8)
    body[:, :6] = head[:6]
    body[:, 6:] = _base62(numbers, 9)
    upper = (body >= ord("A")) & (body <= ord("Z"))
    weights = np.array([1, 2, 4, 8, 16], dtype=np.int64)
    suffix = np.stack(
        [_SF_SUFFIX[(upper[:, i * 5 : i * 5 + 5] * weights).sum(axis=1)] for i in range(3)], 1
    )
    return _to_str(np.concatenate([body, suffix], axis=1))


def stripe_ids(prefix: str, numbers: np.ndarray, salt: int) -> np.ndarray:
    """Stripe-looking ids (`cus_...`): the prefix and 14 base-62 characters of a mixed number."""
    chars = np.concatenate(
        [
            _base62(scramble(numbers, salt) % np.uint64(62**10), 10),
            _base62(scramble(numbers, salt + 1), 4),
        ],
        axis=1,
    )
    head = np.frombuffer(f"{prefix}_".encode(), np.uint8)
    return _to_str(np.concatenate([np.broadcast_to(head, (chars.shape[0], head.size)), chars], 1))


def day_of(ts: np.ndarray, start_ts: int) -> np.ndarray:
    """Index of the simulated day a Unix time falls on."""
    return (np.asarray(ts, dtype=np.int64) - start_ts) // DAY


def business_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into a UTC day, concentrated in working hours (07:00-19:00)."""
    work = rng.normal(13 * 3600, 2.6 * 3600, n)
    anytime = rng.uniform(0, DAY, n)
    secs = np.where(rng.random(n) < 0.85, work, anytime)
    return np.clip(secs, 0, DAY - 1).astype(np.int64)


def month_index(ts: np.ndarray) -> np.ndarray:
    """Months since 1970-01 for Unix times (numpy datetime64 month arithmetic)."""
    return np.asarray(ts, dtype="datetime64[s]").astype("datetime64[M]").astype(np.int64)


def month_start_ts(month_idx: np.ndarray) -> np.ndarray:
    return np.asarray(month_idx, dtype="datetime64[M]").astype("datetime64[s]").astype(np.int64)


def add_months(ts: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Unix time plus whole months, keeping the day of month and clipping to the month's end
    (Stripe's billing-cycle rule: an anchor on the 31st bills on the 30th in April)."""
    ts = np.asarray(ts, dtype=np.int64)
    m = month_index(ts)
    secs_into_day = ts % DAY
    day_of_month = (ts - month_start_ts(m)) // DAY  # 0-based
    target = m + np.asarray(months, dtype=np.int64)
    target_start = month_start_ts(target)
    days_in_target = (month_start_ts(target + 1) - target_start) // DAY
    return target_start + np.minimum(day_of_month, days_in_target - 1) * DAY + secs_into_day


def lognormal_int(
    rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int, low: int = 1
) -> np.ndarray:
    return np.maximum(low, np.round(median * rng.lognormal(0.0, sigma, n))).astype(np.int64)


def choice_p(rng: np.random.Generator, n: int, p: dict[str, float]) -> np.ndarray:
    """Indices into the keys of `p`, drawn with the given weights."""
    w = np.array(list(p.values()), dtype=float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def round_half_up(numer: np.ndarray | int, denom: np.ndarray | int) -> np.ndarray:
    """Integer division rounded half away from zero (how DuckDB rounds decimals)."""
    numer = np.asarray(numer, dtype=object)
    denom = np.asarray(denom, dtype=object)
    sign = np.where(numer < 0, -1, 1)
    return sign * ((abs(numer) * 2 + denom) // (denom * 2))
