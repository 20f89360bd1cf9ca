"""Fairness per group with fairlearn's MetricFrame: figures with intervals, disparities, limits judged."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlcycle.contract import spec
from mlcycle.data.groups import groups_of
from mlcycle.design.value import cost_model
from mlcycle.metrics import fairness
from tests.conftest import minimal_design

PAYOFF = {"true_positive": 100, "false_positive": -20, "false_negative": -300, "true_negative": 0}


def _classification() -> spec.Design:
    return spec.parse(
        minimal_design(
            task="classification",
            target="bad",
            time_column=None,
            group_columns=[],
            value={"predictions_per_period": 100, "payoff": PAYOFF},
            experiments={"data_variants": {"basic": {"features": ["x"]}}},
        )
    )


def _decisions(miss_b: float, rows: int = 4000, seed: int = 0) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Two groups with the same share of positives; the model misses ``miss_b`` of group B's positives, 10% of A's."""
    rng = np.random.default_rng(seed)
    group = pd.Series(rng.choice(["A", "B"], rows))
    actual = (rng.random(rows) < 0.3).astype(float)
    miss = np.where(group == "B", miss_b, 0.10)
    caught = actual * (rng.random(rows) >= miss)
    false_alarm = (1 - actual) * (rng.random(rows) < 0.05)
    probability = np.where((caught + false_alarm) > 0, 0.9, 0.1)
    return group, actual, probability


def test_a_planted_gap_in_missed_cases_is_measured_and_fails_the_limit() -> None:
    design = _classification()
    costs = cost_model(design, 100.0)
    group, actual, probability = _decisions(miss_b=0.45)
    found = fairness.measure(design, costs, "group", group, actual, probability, threshold=0.5)
    by_name = {g.name: g for g in found.groups}
    assert set(by_name) == {"A", "B"}
    a, b = by_name["A"].figures["false_negative_rate"], by_name["B"].figures["false_negative_rate"]
    assert a.value == pytest.approx(0.10, abs=0.04) and b.value == pytest.approx(0.45, abs=0.05)
    assert a.low < a.value < a.high and b.low < b.value < b.high  # bootstrap intervals around each group
    gap = found.disparities["false_negative_rate"]
    assert (gap.highest, gap.lowest) == ("B", "A")
    assert gap.difference.value == pytest.approx(b.value - a.value)
    assert gap.difference.low < gap.difference.value < gap.difference.high
    assert gap.ratio.value == pytest.approx(a.value / b.value)
    # the design's own metrics and the business view per row are measured per group too
    assert {"miss_rate", "f1", "cost_per_prediction"} <= set(by_name["A"].figures)
    assert by_name["B"].figures["cost_per_prediction"].value > by_name["A"].figures["cost_per_prediction"].value

    findings = fairness.judge(found, ["false_negative_rate", "selection_rate"], difference=0.10, ratio=None)
    verdict = {f.metric: f for f in findings}
    assert not verdict["false_negative_rate"].passed
    assert "B" in verdict["false_negative_rate"].detail and "A" in verdict["false_negative_rate"].detail
    # selection rates differ less (0.3·0.9+0.035 against 0.3·0.55+0.035), still above 0.10 apart → fails too
    assert verdict["selection_rate"].measured.value == pytest.approx(0.105, abs=0.04)


def test_equal_groups_pass_and_small_groups_are_left_out() -> None:
    design = _classification()
    costs = cost_model(design, 100.0)
    group, actual, probability = _decisions(miss_b=0.10)
    group.iloc[:12] = "C"  # twelve rows: too few to compare
    found = fairness.measure(design, costs, "group", group, actual, probability, threshold=0.5)
    assert found.left_out == (("C", 12),)
    findings = fairness.judge(found, list(fairness.rates("classification")), difference=0.10, ratio=0.7)
    assert findings and all(f.passed for f in findings), [f.detail for f in findings if not f.passed]
    assert {f.kind for f in findings} == {"difference", "ratio"}
    assert found.to_json()["column"] == "group"


def test_regression_rates_and_numbers_cut_at_quartiles() -> None:
    design = spec.parse(minimal_design())
    costs = cost_model(design, 60.0)
    rng = np.random.default_rng(3)
    age = pd.Series(rng.integers(18, 80, 2000))
    actual = rng.poisson(10, 2000).astype(float)
    prediction = actual + rng.normal(0, 1, 2000) - np.where(age > 60, 3.0, 0.0)  # the old are under-forecast
    found = fairness.measure(design, costs, "age", age, actual, prediction)
    assert len(found.groups) == 4 and all("(" in g.name or "[" in g.name for g in found.groups)
    under = found.disparities["under_forecast_rate"]
    assert under.highest == max(found.groups, key=lambda g: g.figures["under_forecast_rate"].value).name
    assert under.difference.value > 0.3
    assert math.isnan(found.disparities["mean_error"].ratio.value)  # signed: no ratio
    finding = fairness.judge(found, ["mean_error"], difference=1.0, ratio=0.8)
    assert [f.passed for f in finding] == [False, True] and "means nothing" in finding[1].detail


def test_missing_values_are_a_group() -> None:
    assert list(groups_of(pd.Series(["a", None, "b"]))) == ["a", "missing", "b"]


def test_design_keys_are_checked() -> None:
    design = minimal_design()
    limit = {"metrics": ["roc_auc"], "difference": 0.1}
    design["requirements"] = {"compliance": {"protected": ["item"], "max_disparity": limit}}
    problems = spec.check_consistency(spec.parse(design))
    assert any("max_disparity.metrics[0]" in p.path and "roc_auc" in p.message for p in problems), problems


def test_intervals_agree_with_fairlearns_own_bootstrap() -> None:
    """The vectorised resampling gives the intervals fairlearn's n_boot gives, in a fraction of the time."""
    from fairlearn.metrics import MetricFrame, false_negative_rate

    design = _classification()
    group, actual, probability = _decisions(miss_b=0.3, rows=1500, seed=5)
    found = fairness.measure(design, cost_model(design, 100.0), "group", group, actual, probability, threshold=0.5)
    theirs = MetricFrame(
        metrics={"fnr": lambda t, p: false_negative_rate(t, p, pos_label=1)},
        y_true=actual,
        y_pred=(probability >= 0.5).astype(float),
        sensitive_features=group.to_numpy(),
        n_boot=200,
        ci_quantiles=[0.05, 0.95],
        random_state=1,
    )
    low, high = theirs.by_group_ci
    for g in found.groups:
        ours = g.figures["false_negative_rate"]
        assert ours.value == pytest.approx(theirs.by_group.loc[g.name, "fnr"])
        width = high.loc[g.name, "fnr"] - low.loc[g.name, "fnr"]
        assert ours.high - ours.low == pytest.approx(width, rel=0.3)
        assert ours.low == pytest.approx(low.loc[g.name, "fnr"], abs=0.3 * width)
