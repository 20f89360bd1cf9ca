"""Intervals on money figures cover the truth as often as they say, on synthetic data where the truth is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcycle.metrics.catalogue import CATALOGUE, Scored
from mlcycle.metrics.cost import CostModel
from mlcycle.metrics.interval import Interval, mean_interval, resample_means
from mlcycle.monitor.performance import realised_interval

COSTS = CostModel(
    "regression", predictions_per_period=520, running_cost_per_period=500, under_per_unit=0.55, over_per_unit=0.18
)


def test_a_mean_of_skewed_costs_is_covered_about_nine_times_in_ten() -> None:
    true_mean = np.exp(0.5)  # lognormal(0, 1)
    covered = [
        mean_interval(np.random.default_rng(seed).lognormal(0, 1, 400), seed=seed).covers(true_mean)  # type: ignore[union-attr]
        for seed in range(300)
    ]
    assert 0.85 <= np.mean(covered) <= 0.95


def test_days_that_move_together_need_the_day_bootstrap() -> None:
    """A busy day is busy for every product: resampling rows makes the interval too narrow, days do not."""
    by_row, by_day = [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        days = np.repeat(pd.date_range("2024-01-01", periods=60, freq="D"), 20)
        day_effect = np.repeat(rng.normal(0, 1.0, 60), 20)
        values = 5 + day_effect + rng.normal(0, 1.0, len(days))  # true mean 5
        by_row.append(mean_interval(values, seed=seed).covers(5))  # type: ignore[union-attr]
        by_day.append(mean_interval(values, days, seed=seed).covers(5))  # type: ignore[union-attr]
    assert np.mean(by_row) < 0.6
    assert np.mean(by_day) >= 0.85


def test_the_realised_added_value_interval_covers_the_true_added_value() -> None:
    """Model and baseline errors of a known process: the true added value per period is known exactly."""
    model_sd, baseline_sd = 10.0, 14.0
    # E[cost] of a normal error e ~ N(0, s): (under + over) · s / sqrt(2π)
    expected = lambda sd: (COSTS.under_per_unit + COSTS.over_per_unit) * sd / np.sqrt(2 * np.pi)  # noqa: E731
    truth = COSTS.per_period(expected(baseline_sd) - expected(model_sd)) - COSTS.running_cost_per_period
    covered, widths = [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        days = np.repeat(pd.date_range("2024-03-04", periods=6, freq="D"), 20).to_numpy()
        actual = rng.poisson(60, len(days)).astype(float)
        scored = Scored(actual, actual + rng.normal(0, model_sd, len(days)), COSTS)
        baseline = actual + rng.normal(0, baseline_sd, len(days))
        shown = CATALOGUE["net_value"](Scored(scored.y_true, scored.y_pred, COSTS, baseline_pred=baseline))
        interval = realised_interval(scored, baseline, days, shown)
        assert interval is not None and interval.covers(shown)
        covered.append(interval.covers(truth))
        widths.append(interval.high - interval.low)
    # six days are few units to resample: the bootstrap is known to run a little narrow on so few
    assert 0.8 <= np.mean(covered) <= 0.97
    assert np.median(widths) > 0


def test_resampling_keeps_figures_paired_and_refuses_a_single_unit() -> None:
    rng = np.random.default_rng(0)
    model = rng.normal(10, 3, 500)
    baseline = model + 2 + rng.normal(0, 0.1, 500)  # always about 2 worse: the difference is near certain
    resampled = resample_means(np.column_stack([model, baseline]))
    assert resampled is not None and resampled.unit == "row" and resampled.means.shape == (1_000, 2)
    gap = resampled.interval(resampled.means[:, 1] - resampled.means[:, 0])
    assert 1.98 < gap.low < gap.high < 2.02  # paired: the spread of each mean cancels out
    assert resample_means(np.ones(5), np.repeat(pd.Timestamp("2024-01-01"), 5)) is None


@pytest.mark.parametrize(("low", "high", "above", "holds"), [(1.0, 3.0, 0.0, True), (-1.0, 3.0, 0.0, False)])
def test_an_interval_says_whether_a_conclusion_holds_across_it(
    low: float, high: float, above: float, holds: bool
) -> None:
    interval = Interval(low, high, 0.9, "test")
    assert interval.holds_above(above) is holds
    assert Interval.from_dict(interval.to_dict()) == interval
    assert interval.scaled(-2, 1) == Interval(1 - 2 * high, 1 - 2 * low, 0.9, "test")
