"""Reference inputs: daily FX rates to the reporting currency, rep quotas, S&M expenses."""

from __future__ import annotations

import datetime as dt

import numpy as np

# Currency -> (rate to USD on day 0, minor-unit exponent). JPY is zero-decimal.
CURRENCIES: dict[str, tuple[float, int]] = {
    "USD": (1.0, 2),
    "EUR": (1.07, 2),
    "GBP": (1.24, 2),
    "JPY": (0.0071, 0),
}
COUNTRY_CURRENCY = {
    "US": "USD",
    "CA": "USD",
    "AU": "USD",
    "GB": "GBP",
    "DE": "EUR",
    "FR": "EUR",
    "NL": "EUR",
    "ES": "EUR",
    "JP": "JPY",
}
COUNTRY_WEIGHTS = {
    "US": 0.52,
    "CA": 0.05,
    "AU": 0.03,
    "GB": 0.12,
    "DE": 0.1,
    "FR": 0.06,
    "NL": 0.03,
    "ES": 0.03,
    "JP": 0.06,
}


def fx_micro_rates(rng: np.random.Generator, n_days: int) -> dict[str, np.ndarray]:
    """Daily rate to USD per currency, in millionths (the 6-decimal rate as an integer), so
    conversions can be computed exactly. USD is 1.000000 every day."""
    out: dict[str, np.ndarray] = {}
    for code, (start, _) in CURRENCIES.items():
        if code == "USD":
            out[code] = np.full(n_days, 1_000_000, dtype=np.int64)
            continue
        walk = np.cumsum(rng.normal(0.0, 0.0035, n_days))
        walk -= np.linspace(0, walk[-1] * 0.6, n_days)  # mean-revert a little
        out[code] = np.round(start * np.exp(walk) * 1_000_000).astype(np.int64)
    return out


# Minor-unit exponents of every currency an export may carry, including ones without rates.
NO_RATE_CURRENCY = "CHF"  # multi-currency-gaps: opportunities in a currency never given a rate
MINOR_EXPONENT: dict[str, int] = {c: e for c, (_, e) in CURRENCIES.items()} | {NO_RATE_CURRENCY: 2}
GAP_CURRENCY = "GBP"  # multi-currency-gaps: the currency with long gaps
FX_MAX_STALENESS_DAYS = 7  # the pipeline's default: a rate older than this is not used


def usable_rates(delivered: np.ndarray, staleness: int = FX_MAX_STALENESS_DAYS) -> np.ndarray:
    """Index of the rate a day converts at (the latest delivered day at most `staleness`
    days before it), or -1 when there is none."""
    idx = np.where(delivered, np.arange(delivered.size), -1)
    last = np.maximum.accumulate(idx)
    return np.where((last >= 0) & (np.arange(delivered.size) - last <= staleness), last, -1)


def gap_spans(rng: np.random.Generator, start: dt.date, close_days: np.ndarray) -> list:
    """Spans of missing GAP_CURRENCY rates, each around one of `close_days` (day indexes of
    won deals in that currency): the close falls 10 days after the last rate before the gap,
    so it has no usable rate; no span reaches a month's last day (MRR converts at month-end
    rates, which stay delivered)."""
    spans: list[np.ndarray] = []
    taken: set[int] = set()
    for day in rng.permutation(np.unique(close_days)).tolist():
        if len(spans) >= 4:
            break
        first, last = day - 9, day + 3
        if first < 10 or any(d in taken for d in range(first - 10, last + 11)):
            continue
        # the gap, and the weekend after it, end before the month's last day
        days = [start + dt.timedelta(days=d) for d in range(first, last + 5)]
        if any(d.month != days[0].month for d in days):
            continue
        spans.append(np.arange(first, last + 1))
        taken.update(range(first, last + 1))
    return sorted(spans, key=lambda a: int(a[0]))


def fx_gaps(
    fx: dict[str, np.ndarray], start: dt.date, spans: list
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray], list[dict]]:
    """Rates missing on weekends for every non-USD currency, and for GAP_CURRENCY over
    `spans` (arrays of day indexes). Returns the rates as the pipeline must apply them (a day
    without a rate converts at the last delivered one while it is at most
    FX_MAX_STALENESS_DAYS old), which days have a usable rate, which days are delivered, and
    the gaps (first/last missing date, first date without a usable rate)."""
    n_days = fx["USD"].size
    weekday = (start.weekday() + np.arange(n_days)) % 7
    effective: dict[str, np.ndarray] = {}
    usable: dict[str, np.ndarray] = {}
    delivered: dict[str, np.ndarray] = {}
    gaps: list[dict] = []
    for code, rates in fx.items():
        mask = np.ones(n_days, bool) if code == "USD" else weekday < 5
        mask[: int(np.argmax(mask))] = True  # a history that starts on a weekend has rates
        if code == GAP_CURRENCY:
            for span in spans:
                mask[span] = False
        use = usable_rates(mask)
        delivered[code] = mask
        usable[code] = use >= 0
        # a day with no usable rate keeps its value, which nothing may use
        effective[code] = np.where(use >= 0, rates[np.maximum(use, 0)], rates)
        # every run of missing days with a day that has no usable rate is a gap
        missing = np.flatnonzero(~mask)
        runs = np.split(missing, np.flatnonzero(np.diff(missing) > 1) + 1) if missing.size else []
        for run in runs:
            dead = run[use[run] < 0]
            if dead.size == 0:
                continue
            gaps.append(
                {
                    "currency": code,
                    "first_missing_date": _iso(start, run[0]),
                    "last_missing_date": _iso(start, run[-1]),
                    "first_unconvertible_date": _iso(start, dead[0]),
                    "last_unconvertible_date": _iso(start, dead[-1]),
                }
            )
    return effective, usable, delivered, gaps


def _iso(start: dt.date, day: int) -> str:
    return (start + dt.timedelta(days=int(day))).isoformat()
