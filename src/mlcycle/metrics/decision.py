"""From a fitted estimator to a number, and from the number to a decision — one rule for every path.

The number a model gives is its *value*: the forecast for regression, the probability of the
positive class for classification. A classifier decides by comparing that probability with a
threshold chosen for money (:func:`best_threshold`), not 0.5. Trials, the registered model,
the service's lean path, batch scoring, shadow scoring, the reports and the explainer all
call these functions, so a model is judged exactly as it is served.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcycle.metrics.cost import CostModel

DEFAULT_THRESHOLD = 0.5  # only for a classifier that carries no threshold of its own


def values(estimator: Any, X: Any, task: str) -> np.ndarray:
    """The estimator's value per row: ``predict`` as floats, or ``predict_proba``'s positive column."""
    if task == "classification":
        return np.asarray(estimator.predict_proba(X)[:, 1], dtype=float)
    return np.asarray(estimator.predict(X), dtype=float)


def decide(probability: np.ndarray, threshold: float | None) -> np.ndarray:
    """1.0 where a classifier acts (the probability reaches the threshold), else 0.0."""
    cut = DEFAULT_THRESHOLD if threshold is None else threshold
    return (np.asarray(probability, dtype=float) >= cut).astype(float)


def labels(probability: np.ndarray, threshold: float | None, pair: tuple[Any, Any]) -> list[Any]:
    """The decision in the data's own labels: ``pair`` is (negative, positive) as the data writes them."""
    negative, positive = pair
    return [positive if acted else negative for acted in decide(probability, threshold)]


def best_threshold(costs: CostModel, y_true: np.ndarray, probability: np.ndarray) -> float:
    """The probability cut-off that earns the most money on these predictions (0.5 among the candidates,
    and the 101 percentiles of the probabilities)."""
    candidates = np.unique(np.concatenate([[DEFAULT_THRESHOLD], np.quantile(probability, np.linspace(0, 1, 101))]))
    gained = [costs.money_gained(y_true, decide(probability, t)).sum() for t in candidates]
    return float(candidates[int(np.argmax(gained))])


__all__ = ["DEFAULT_THRESHOLD", "best_threshold", "decide", "labels", "values"]
