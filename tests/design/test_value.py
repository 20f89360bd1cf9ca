"""Money against small cases computed by hand."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlcycle.contract import spec
from mlcycle.design import value
from mlcycle.metrics.cost import CostModel
from tests.conftest import minimal_design


def _two_weeks() -> pd.DataFrame:
    """One series; week 2 differs from week 1 on two days: +2 units, then −2 units."""
    units = [10] * 7 + [12, 8, 10, 10, 10, 10, 10]
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=14), "item": "A", "price": 1.0, "units": units})


def _design(**value_overrides: Any) -> spec.Design:
    design = minimal_design()
    design["value"] = {
        "predictions_per_period": 70,
        "cost": {"under_per_unit": 2.0, "over_per_unit": 1.0},
        "running_cost_per_period": 10,
        "development_budget": 100,
        "horizon_periods": 12,
        **value_overrides,
    }
    return spec.parse(design)


def test_regression_money_by_hand() -> None:
    estimate = value.estimate(_design(), _two_weeks())
    # week 2 predicted from week 1: day 8 under by 2 (2 × 2.0 = 4), day 9 over by 2 (2 × 1.0 = 2)
    assert estimate.scored_rows == 7 and estimate.skipped_rows == 7
    assert estimate.baseline_cost_per_prediction == pytest.approx(6 / 7)
    assert estimate.baseline_money_lost_per_period == pytest.approx(60.0)  # 70 predictions × 6/7
    assert estimate.break_even_improvement == pytest.approx(10 / 60)
    assert estimate.payback_improvement == pytest.approx((10 + 100 / 12) / 60)
    by_cut = {s.improvement: s for s in estimate.scenarios}
    assert by_cut[0.1].added_value_per_period == pytest.approx(6 - 10)
    assert math.isinf(by_cut[0.1].payback_periods)
    assert by_cut[0.2].payback_periods == pytest.approx(100 / 2)
    assert by_cut[0.5].added_value_per_period == pytest.approx(20.0)
    assert by_cut[0.5].payback_periods == pytest.approx(5.0)
    assert estimate.verdict == "go"
    assert any("caution" in r for r in estimate.reasons)  # the gate (0 %) asks less than payback needs


def test_asymmetric_cost_weighs_under_and_over_differently() -> None:
    costs = CostModel("regression", predictions_per_period=1, under_per_unit=2.5, over_per_unit=0.8)
    lost = costs.money_lost(np.array([10, 10, 10]), np.array([7, 10, 14]))
    assert lost.tolist() == pytest.approx([7.5, 0.0, 3.2])
    assert costs.newsvendor_quantile == pytest.approx(2.5 / 3.3)


def test_no_go_when_even_halving_the_cost_would_not_pay() -> None:
    estimate = value.estimate(_design(running_cost_per_period=40), _two_weeks())
    assert estimate.payback_improvement == pytest.approx((40 + 100 / 12) / 60)
    assert estimate.verdict == "no-go"
    assert any("even a 50% cut would not" in r for r in estimate.reasons)


def test_no_go_when_today_loses_nothing() -> None:
    flat = _two_weeks().assign(units=10)
    estimate = value.estimate(_design(), flat)
    assert estimate.verdict == "no-go" and "loses no money" in estimate.reasons[0]


def test_go_without_caution_when_the_gate_asks_enough() -> None:
    design = _design()
    design.requirements.beat_baseline_by = 0.4
    estimate = value.estimate(design, _two_weeks())
    assert estimate.verdict == "go"
    assert not any("caution" in r for r in estimate.reasons)
    assert any("adds 14 EUR" in r for r in estimate.reasons)  # 60 × 0.4 − 10


def test_classification_cost_matrix_by_hand() -> None:
    costs = CostModel(
        "classification",
        predictions_per_period=5,
        true_positive=400,
        false_positive=-50,
        false_negative=-1200,
        true_negative=0,
    )
    y_true = np.array([1, 0, 0, 1, 0])
    y_pred = np.array([1, 1, 0, 0, 0])  # TP, FP, TN, FN, TN
    assert costs.money_gained(y_true, y_pred).tolist() == [400, -50, 0, -1200, 0]
    # money lost = what the right decision would have earned minus what this one did
    assert costs.money_lost(y_true, y_pred).tolist() == [0, 50, 0, 1600, 0]
    assert costs.per_period(costs.money_lost(y_true, y_pred).mean()) == pytest.approx(1650)


def test_classification_value_from_payoff_on_the_baseline() -> None:
    design = minimal_design(task="classification", target="churned", time_column=None, group_columns=[])
    design["value"] = {
        "predictions_per_period": 100,
        "running_cost_per_period": 1000,
        "development_budget": 12000,
        "payoff": {"true_positive": 400, "false_positive": -50, "false_negative": -1200},
    }
    design["experiments"] = {"data_variants": {"all": {}}}
    parsed = spec.parse(design)
    frame = pd.DataFrame({"x": range(100), "churned": [1] * 30 + [0] * 70})
    estimate = value.estimate(parsed, frame)
    # majority class = "no churn": every churner is missed (regret 400 − (−1200) = 1600), others cost nothing
    assert estimate.baseline_cost_per_prediction == pytest.approx(0.3 * 1600)
    assert estimate.baseline_money_lost_per_period == pytest.approx(48_000)
    assert estimate.baseline_money_gained_per_period == pytest.approx(100 * 0.3 * -1200)
    assert estimate.break_even_improvement == pytest.approx(1000 / 48_000)
    assert estimate.verdict == "go"


def test_predictions_per_period_counted_from_the_data_when_not_given() -> None:
    design = _design()
    design.value.predictions_per_period = None
    design.value.period = "week"
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=35), "item": "A", "units": 1})
    per_period, inferred = value.predictions_per_period(design, frame)
    assert inferred and per_period == pytest.approx(7.0)  # full weeks only


def test_example_prices_todays_process_on_training_history(example_dir: Any) -> None:
    import mlcycle

    uc = mlcycle.UseCase.load(example_dir)
    history = uc.data[uc.data["date"] <= "2011-08-31"]
    estimate = value.estimate(uc.spec, history)
    # seasonal naive on the example: ~44 GBP lost per product-day at 0.55 / 0.18 per unit under / over
    assert 35 < estimate.baseline_cost_per_prediction < 55
    assert estimate.verdict == "go"
    assert estimate.payback_improvement < uc.spec.requirements.beat_baseline_by
    # the estimate's interval: over resamples of the history's days, around the figure it qualifies
    spread = estimate.spread
    assert spread is not None and spread.lost.method.startswith("bootstrap over 5")  # ~511 trading days
    assert spread.lost.covers(estimate.baseline_money_lost_per_period)
    assert spread.at_gate.covers(estimate.at_gate.added_value_per_period)
    assert spread.go_share == 1.0 and 0.9 <= spread.payback_share <= 1.0
    assert any(r.startswith("go in 100% of resamples") for r in estimate.reasons)


def test_a_thin_margin_says_how_often_it_would_not_pay_back() -> None:
    """A history whose loss barely covers the payback: the resamples split, and the reason says so."""
    rng = np.random.default_rng(4)
    days = pd.date_range("2024-01-01", periods=140)
    frame = pd.DataFrame({"date": days, "item": "A", "price": 1.0, "units": rng.poisson(20, len(days)) * 1.0})
    design = _design(predictions_per_period=30)
    design.requirements.beat_baseline_by = required = 0.2
    lost = value.estimate(design, frame).baseline_money_lost_per_period
    # pick the budget so that a model just meeting the gate pays back exactly at the point estimate
    design.value.development_budget = (lost * required - design.value.running_cost_per_period) * 12
    thin = value.estimate(design, frame)
    assert thin.spread is not None and 0.2 < thin.spread.payback_share < 0.8
    assert thin.spread.at_gate.low < thin.at_gate.added_value_per_period < thin.spread.at_gate.high
