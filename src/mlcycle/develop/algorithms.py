"""The algorithms a design may name, the tasks each fits and its default search space.

A design's ``experiments.algorithms`` maps a name from this registry to overrides of the
default space: ``{low, high, log}`` for a range, a list for choices, a scalar to fix a value.
The estimators themselves are built by the development phase; this table is what the
design contract is checked against, so a typo in a name or a hyperparameter is caught
before any data is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Algorithm:
    name: str
    tasks: frozenset[str]
    space: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


_REGRESSION = frozenset({"regression"})
_CLASSIFICATION = frozenset({"classification"})
_BOTH = _REGRESSION | _CLASSIFICATION

REGISTRY: dict[str, Algorithm] = {
    a.name: a
    for a in [
        Algorithm("ridge", _REGRESSION, {"alpha": {"low": 1e-3, "high": 100.0, "log": True}},
                  "scikit-learn Ridge: a linear model with L2 shrinkage"),
        Algorithm("logistic_regression", _CLASSIFICATION, {"C": {"low": 1e-3, "high": 100.0, "log": True}},
                  "scikit-learn LogisticRegression"),
        Algorithm("random_forest", _BOTH,
                  {"n_estimators": {"low": 50, "high": 300}, "max_depth": {"low": 3, "high": 16},
                   "min_samples_leaf": {"low": 1, "high": 20}},
                  "scikit-learn RandomForest"),
        Algorithm("gradient_boosting", _BOTH,
                  {"learning_rate": {"low": 0.01, "high": 0.3, "log": True}, "max_leaf_nodes": {"low": 8, "high": 64},
                   "min_samples_leaf": {"low": 5, "high": 100}, "max_iter": {"low": 50, "high": 500}},
                  "scikit-learn HistGradientBoosting"),
        Algorithm("lightgbm", _BOTH,
                  {"num_leaves": {"low": 8, "high": 128}, "learning_rate": {"low": 0.01, "high": 0.3, "log": True},
                   "n_estimators": {"low": 50, "high": 500}, "min_child_samples": {"low": 5, "high": 100}},
                  "LightGBM gradient-boosted trees"),
    ]
}


def for_task(task: str) -> list[str]:
    return [a.name for a in REGISTRY.values() if task in a.tasks]
