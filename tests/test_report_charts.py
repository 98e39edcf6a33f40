"""The report's chart choices (revops/report/figures.py, docs/REPORT.md "Chart choices"), each
on a small hand-made input with the expected values worked out by hand: the waterfall's axis,
the funnel's opening cohort, the heat maps' colour range and rows, and the reps' trailing
quarters. No company is built: these run in milliseconds."""

from __future__ import annotations

import datetime as dt

import pytest

from revops import settings
from revops.report.figures import (
    HIGH_COLOUR,
    HIGH_MID_COLOUR,
    LOW_COLOUR,
    LOW_MID_COLOUR,
    NEUTRAL_COLOUR,
    bridge_levels,
    diverging_scale,
    mature_cohort,
    rows_with_values,
    trailing_rep_rates,
    waterfall_axis_range,
)

# --- MRR waterfall ---------------------------------------------------------------------------

# starting 1000, new 50, reactivation 0, expansion 20, contraction -10, churn -30, FX -5, MRR 1025
BRIDGE = [1000.0, 50.0, 0.0, 20.0, -10.0, -30.0, -5.0, 1025.0]


def test_bridge_levels_are_the_running_totals():
    assert bridge_levels(BRIDGE) == [1000, 1050, 1050, 1070, 1060, 1030, 1025, 1025]


def test_the_axis_starts_near_the_starting_mrr_not_at_zero():
    # levels 1000..1070: span 70, pad = max(0.25 x 70, 0.01 x 1070) = 17.5
    assert waterfall_axis_range(BRIDGE) == (982.5, 1087.5, True)


def test_a_flat_month_is_padded_by_one_percent_of_its_mrr():
    # no movement: span 0, pad = 0.01 x 2000 = 20
    assert waterfall_axis_range([2000.0, 0, 0, 0, 0, 0, 0, 2000.0]) == (1980.0, 2020.0, True)


def test_a_month_whose_movements_are_large_starts_at_zero():
    # the first months: 0 -> 100 new -> 100; pad 25 would go below 0, so the axis is not broken
    assert waterfall_axis_range([0.0, 100, 0, 0, 0, 0, 0, 100.0]) == (0.0, 125.0, False)
    # 100 -> 300: levels 100..300, pad 50, bottom 50 > 0: broken
    assert waterfall_axis_range([100.0, 200, 0, 0, 0, 0, 0, 300.0]) == (50.0, 350.0, True)
    # 100 -> 40 after churn 60: levels 40..100, pad 15, bottom 25: broken
    assert waterfall_axis_range([100.0, 0, 0, 0, 0, -60, 0, 40.0]) == (25.0, 115.0, True)
    # 20 -> 100: levels 20..100, pad 20, bottom 0: from 0, not broken
    assert waterfall_axis_range([20.0, 80, 0, 0, 0, 0, 0, 100.0]) == (0.0, 120.0, False)


def test_an_empty_bridge_has_a_unit_axis():
    assert waterfall_axis_range([0.0] * 8) == (0.0, 1.0, False)


# --- funnel: the latest mature cohort --------------------------------------------------------

D = dt.date


def test_the_funnel_opens_on_the_latest_cohort_old_enough():
    cohorts = [(D(2025, m, 1), 10) for m in range(1, 13)]
    # report month Dec 2025, 6 months: Jun 2025 is 6 months before it, Jul only 5
    assert mature_cohort(cohorts, D(2025, 12, 1), 6) == (D(2025, 6, 1), True)
    assert mature_cohort(cohorts, D(2025, 12, 1), 0) == (D(2025, 12, 1), True)
    assert mature_cohort(cohorts, D(2026, 2, 1), 3) == (D(2025, 11, 1), True)


def test_a_cohort_without_leads_is_not_chosen():
    cohorts = [(D(2025, 5, 1), 7), (D(2025, 6, 1), 0), (D(2025, 7, 1), None)]
    assert mature_cohort(cohorts, D(2025, 12, 1), 5) == (D(2025, 5, 1), True)


def test_without_a_mature_cohort_the_oldest_is_shown_as_not_mature():
    cohorts = [(D(2025, 10, 1), 3), (D(2025, 11, 1), 4), (D(2025, 12, 1), 5)]
    assert mature_cohort(cohorts, D(2025, 12, 1), 6) == (D(2025, 10, 1), False)
    assert mature_cohort([], D(2025, 12, 1), 6) == (None, False)


def test_the_maturity_setting_reads_the_environment_then_the_file(tmp_path):
    env = settings.FUNNEL_MATURITY_ENV
    assert settings.funnel_cohort_maturity_months(environ={}) == 6
    assert settings.funnel_cohort_maturity_months(environ={env: " 9 "}) == 9
    path = tmp_path / "org.toml"
    path.write_text("funnel_cohort_maturity_months = 4\n")
    org = settings.load_settings(path)
    assert settings.funnel_cohort_maturity_months(org, environ={}) == 4
    assert settings.funnel_cohort_maturity_months(org, environ={env: "2"}) == 2
    for bad in ("-1", "3.5", "six"):
        with pytest.raises(settings.SettingsError, match="funnel_cohort_maturity_months"):
            settings.funnel_cohort_maturity_months(environ={env: bad})


# --- heat maps: colour range and empty rows --------------------------------------------------


def test_the_colour_scale_spans_the_values_with_100_percent_yellow():
    # 0.8 .. 1.6: 1.0 sits a quarter of the way up; the inner colours halfway to it
    assert diverging_scale([0.8, None, 1.0, 1.6]) == {
        "zmin": 0.8,
        "zmax": 1.6,
        "colorscale": [
            [0.0, LOW_COLOUR],
            [0.125, LOW_MID_COLOUR],
            [0.25, NEUTRAL_COLOUR],
            [0.625, HIGH_MID_COLOUR],
            [1.0, HIGH_COLOUR],
        ],
    }


def test_the_colour_scale_never_goes_below_the_lowest_value():
    # every cohort kept at least 60% and at most 250%: the scale runs 60%..250%, never -50%
    scale = diverging_scale([0.6, 1.0, 2.5])
    assert (scale["zmin"], scale["zmax"]) == (0.6, 2.5)
    # values all above 100%: the scale starts at 100% (yellow) and goes to green
    assert diverging_scale([1.1, 1.3]) == {
        "zmin": 1.0,
        "zmax": 1.3,
        "colorscale": [[0.0, NEUTRAL_COLOUR], [0.5, HIGH_MID_COLOUR], [1.0, HIGH_COLOUR]],
    }
    # all below: red up to yellow at 100%
    assert diverging_scale([0.5, 0.75]) == {
        "zmin": 0.5,
        "zmax": 1.0,
        "colorscale": [[0.0, LOW_COLOUR], [0.5, LOW_MID_COLOUR], [1.0, NEUTRAL_COLOUR]],
    }
    assert diverging_scale([None, None]) is None


def test_rows_without_any_value_are_left_out_and_named():
    labels = ["All", "SMB", "Unknown"]
    grid = [[1.0, None], [None, 0.9], [None, None]]
    assert rows_with_values(labels, grid) == (
        ["All", "SMB"],
        [[1.0, None], [None, 0.9]],
        ["Unknown"],
    )


# --- reps: trailing quarters -----------------------------------------------------------------


def _rep_row(rep: str, month: dt.date, won: int, closed: int, cycle: int) -> dict:
    return {
        "rep_id": rep,
        "month_start_date": month,
        "opportunities_won": won,
        "opportunities_closed": closed,
        "won_sales_cycle_days": cycle,
    }


def test_rep_rates_sum_three_months_then_divide():
    rows = [
        _rep_row("a", D(2025, 1, 1), 1, 2, 30),
        _rep_row("a", D(2025, 2, 1), 0, 0, 0),
        _rep_row("a", D(2025, 3, 1), 2, 3, 100),
        _rep_row("a", D(2025, 4, 1), 0, 1, 0),
        _rep_row("a", D(2025, 5, 1), 0, 0, 0),
        _rep_row("a", D(2025, 6, 1), 0, 0, 0),
        _rep_row("b", D(2025, 1, 1), 0, 0, 0),
    ]
    rates = trailing_rep_rates(rows)
    expected = {
        # month: (won, closed, months of data, close rate, cycle days)
        "2025-01-01": (1, 2, 1, 0.5, 30.0),
        "2025-02-01": (1, 2, 2, 0.5, 30.0),
        "2025-03-01": (3, 5, 3, 0.6, 130 / 3),
        "2025-04-01": (2, 4, 3, 0.5, 50.0),
        "2025-05-01": (2, 4, 3, 0.5, 50.0),
        "2025-06-01": (0, 1, 3, 0.0, None),  # Apr-Jun: one lost, nothing won
    }
    for month, (won, closed, months, rate, cycle) in expected.items():
        cell = rates[("a", month)]
        assert (cell["won"], cell["closed"], cell["months"]) == (won, closed, months), month
        assert cell["close_rate"] == pytest.approx(rate), month
        assert cell["avg_sales_cycle_days"] == (None if cycle is None else pytest.approx(cycle))
    # nothing closed in the window: no rate (never 0%)
    assert rates[("b", "2025-01-01")]["close_rate"] is None
    assert len(rates) == len(rows)


def test_the_window_crosses_a_year_end():
    rows = [
        _rep_row("a", D(2024, 11, 1), 1, 1, 10),
        _rep_row("a", D(2024, 12, 1), 0, 1, 0),
        _rep_row("a", D(2025, 1, 1), 1, 2, 20),
    ]
    cell = trailing_rep_rates(rows)[("a", "2025-01-01")]
    assert (cell["won"], cell["closed"], cell["months"]) == (2, 4, 3)
    assert cell["avg_sales_cycle_days"] == pytest.approx(15.0)
