"""Reference inputs: daily FX rates to the reporting currency, rep quotas, S&M expenses."""

from __future__ import annotations

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
