"""Performance and money estimated without actuals (CBPE, DLE), checked on synthetic data where the truth is known."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlcycle.data.reference import profile
from mlcycle.metrics import catalogue, estimation
from mlcycle.metrics.cost import CostModel

MONEY = CostModel("regression", 520, 500, under_per_unit=0.55, over_per_unit=0.18)
PAYOFF = CostModel(
    "classification", 1_000, 100, true_positive=400, false_positive=-50, false_negative=-1_200, true_negative=0
)
REGRESSION_VIEWS = {
    "data_scientist": [catalogue.CATALOGUE["mae"]],
    "business": [catalogue.CATALOGUE["money_lost"], catalogue.CATALOGUE["net_value"]],
}
CLASSIFICATION_VIEWS = {
    "data_scientist": [catalogue.CATALOGUE[m] for m in ("precision", "recall", "f1", "roc_auc", "log_loss")],
    "domain_expert": [catalogue.CATALOGUE[m] for m in ("miss_rate", "false_alarm_rate", "precision_at_k")],
    "business": [catalogue.CATALOGUE["money_lost"], catalogue.CATALOGUE["net_value"]],
}


def demand(rng: np.random.Generator, n: int, shift: float = 0.0) -> tuple[pd.DataFrame, np.ndarray, ...]:
    """Noise grows with x and in shop "a": a window moved towards large x loses more money, and DLE must see it."""
    x = rng.normal(shift, 1, n)
    shop = rng.choice(["a", "b", "c"], n)
    noise = 5 + 5 * (x > 0) + 3 * (shop == "a")
    expected = 50 + 10 * x
    actual = expected + rng.normal(0, noise)
    return (
        pd.DataFrame({"x": x, "shop": shop}),
        expected + rng.normal(0, 2, n),  # the model: close to the expectation
        actual,
        expected + rng.normal(0, noise * 1.5),  # today's process: worse, and worse where the noise is
    )


def defaults(rng: np.random.Generator, n: int, shift: float = 0.0) -> tuple[pd.DataFrame, np.ndarray, ...]:
    """A classifier whose scores are overconfident: the estimator must calibrate them first."""
    x = rng.normal(shift, 1, n)
    truth = 1 / (1 + np.exp(-(1.5 * x - 2)))
    actual = (rng.random(n) < truth).astype(float)
    scores = 1 / (1 + np.exp(-(3 * x - 4)))
    return pd.DataFrame({"x": x}), scores, actual, np.zeros(n)  # today's process never acts


def realised(task: str, prediction: np.ndarray, actual: np.ndarray, baseline: np.ndarray, **kw: float) -> dict:
    costs = MONEY if task == "regression" else PAYOFF
    decided = (prediction >= kw["threshold"]).astype(float) if task == "classification" else prediction
    scored = catalogue.Scored(actual, decided, costs, y_score=prediction, baseline_pred=baseline)
    views = REGRESSION_VIEWS if task == "regression" else CLASSIFICATION_VIEWS
    return {name: value for view in catalogue.evaluate(scored, views).values() for name, value in view.items()}


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_estimates_cover_the_realised_figures_without_seeing_an_actual(task: str) -> None:
    make = demand if task == "regression" else defaults
    inputs, prediction, actual, baseline = make(np.random.default_rng(0), 6_000)
    threshold = 0.2
    estimator = estimation.fit(
        task,
        inputs=inputs,
        prediction=prediction,
        actual=actual,
        baseline=baseline,
        costs=MONEY if task == "regression" else PAYOFF,
        threshold=threshold,
        chunk_rows=150,
    )
    names = ("mae", "money_lost", "net_value") if task == "regression" else ("precision", "recall", "net_value")
    covered: dict[str, list[bool]] = {n: [] for n in names}
    errors: dict[str, list[float]] = {n: [] for n in names}
    for seed in range(40):
        inputs, prediction, actual, baseline = make(np.random.default_rng(seed + 1), 300)
        found = estimator.estimate(
            inputs=inputs,
            prediction=prediction,
            baseline=baseline,
            costs=MONEY if task == "regression" else PAYOFF,
            views=REGRESSION_VIEWS if task == "regression" else CLASSIFICATION_VIEWS,
        )
        assert found is not None
        truth = realised(task, prediction, actual, baseline, threshold=threshold)
        for name in names:
            covered[name].append(found.intervals[name].covers(truth[name]))
            errors[name].append(abs(found.figures[name] - truth[name]))
    for name in names:
        assert np.mean(covered[name]) >= 0.85, (name, np.mean(covered[name]))
    if task == "regression":
        assert np.mean(errors["mae"]) < 0.6  # units, on a realised MAE near 6.5
    else:
        assert np.mean(errors["precision"]) < 0.08  # ~30 decided positives a window: sampling alone is ~0.07


def test_dle_follows_a_shift_towards_the_rows_that_lose_more() -> None:
    inputs, prediction, actual, baseline = demand(np.random.default_rng(0), 6_000)
    estimator = estimation.fit(
        "regression", inputs=inputs, prediction=prediction, actual=actual, baseline=baseline, costs=MONEY
    )
    calm = estimator.estimate(
        inputs=(d := demand(np.random.default_rng(9), 2_000, shift=-1.0))[0],
        prediction=d[1],
        baseline=d[3],
        costs=MONEY,
        views=REGRESSION_VIEWS,
    )
    rough = estimator.estimate(
        inputs=(r := demand(np.random.default_rng(9), 2_000, shift=1.0))[0],
        prediction=r[1],
        baseline=r[3],
        costs=MONEY,
        views=REGRESSION_VIEWS,
    )
    assert calm is not None and rough is not None
    true_calm = realised("regression", d[1], d[2], d[3])["money_lost"]
    true_rough = realised("regression", r[1], r[2], r[3])["money_lost"]
    assert true_rough > 1.3 * true_calm
    assert rough.figures["money_lost"] > 1.3 * calm.figures["money_lost"]
    assert abs(rough.figures["money_lost"] - true_rough) < 0.1 * true_rough


def test_cbpe_says_whether_it_calibrated_and_calibrated_scores_are_used_as_they_are() -> None:
    inputs, scores, actual, baseline = defaults(np.random.default_rng(0), 5_000)
    overconfident = estimation.fit(
        "classification", inputs=inputs, prediction=scores, actual=actual, baseline=baseline, costs=PAYOFF
    )
    assert "isotonic regression" in overconfident.calibrated_by
    assert overconfident.ece["after"] < overconfident.ece["before"] / 3
    honest = 1 / (1 + np.exp(-(1.5 * inputs["x"].to_numpy() - 2)))
    calibrated = estimation.fit(
        "classification", inputs=inputs, prediction=honest, actual=actual, baseline=baseline, costs=PAYOFF
    )
    assert calibrated.calibration is None and "calibrated already" in calibrated.calibrated_by


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_an_estimator_survives_json_and_gives_the_same_figures(task: str) -> None:
    make = demand if task == "regression" else defaults
    inputs, prediction, actual, baseline = make(np.random.default_rng(0), 2_000)
    costs = MONEY if task == "regression" else PAYOFF
    views = REGRESSION_VIEWS if task == "regression" else CLASSIFICATION_VIEWS
    fitted = estimation.fit(task, inputs=inputs, prediction=prediction, actual=actual, baseline=baseline, costs=costs)
    again = estimation.Estimator.from_dict(json.loads(json.dumps(fitted.to_dict())))
    window = make(np.random.default_rng(5), 200)
    first = fitted.estimate(inputs=window[0], prediction=window[1], baseline=window[3], costs=costs, views=views)
    second = again.estimate(inputs=window[0], prediction=window[1], baseline=window[3], costs=costs, views=views)
    assert first == second


def test_outside_support_counts_numbers_beyond_the_range_and_unseen_categories() -> None:
    reference = profile(pd.DataFrame({"x": np.linspace(0, 10, 100), "shop": ["a", "b"] * 50}))
    window = pd.DataFrame({"x": [5.0, 11.0, -1.0, 3.0], "shop": ["a", "a", "b", "z"]})
    assert estimation.outside_support(reference, window) == 0.75


def test_a_reference_too_short_for_ten_windows_still_gives_every_estimate_an_interval() -> None:
    inputs, prediction, actual, baseline = demand(np.random.default_rng(0), 150)
    estimator = estimation.fit(
        "regression", inputs=inputs, prediction=prediction, actual=actual, baseline=baseline, costs=MONEY
    )
    window = demand(np.random.default_rng(1), 40)
    found = estimator.estimate(
        inputs=window[0], prediction=window[1], baseline=window[3], costs=MONEY, views=REGRESSION_VIEWS
    )
    assert found is not None and set(found.intervals) == set(found.figures)
    assert all("reference rows" in i.method for i in found.intervals.values())
    truth = realised("regression", window[1], window[2], window[3])
    assert found.intervals["mae"].covers(truth["mae"])
