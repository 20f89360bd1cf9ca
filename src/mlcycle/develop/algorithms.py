"""The algorithms a design may name: the tasks each fits, its search space, its default and how to build it.

A design's ``experiments.algorithms`` maps a name from this registry to overrides of the
default space: ``{low, high, log}`` for a range, a list for choices, a scalar to fix a
value. A typo in a name or a hyperparameter is caught when the design is loaded.

**Train for the money.** When the design's cost is asymmetric and its primary metric is
money, the money-optimal point forecast is the ``under / (under + over)`` quantile of demand
(the newsvendor solution). Algorithms that can fit a quantile (LightGBM, scikit-learn's
HistGradientBoosting) then take that objective *by default*; the search may still try
the plain losses, so the leaderboard shows what MAE gives up for money.

Every estimator fits single-threaded (``n_jobs=1``, ``num_threads=1``): the search runs
trials in parallel processes, one per core, which is what makes scaling real.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from mlcycle.contract.vocabulary import AlgorithmTerm, tell, vocabulary

Family = Literal["linear", "tree"]
# Calendar features a linear model should see as categories, not as a line through 1..7.
CYCLIC = {"day_of_week", "month", "quarter", "week_of_year"}


@dataclass(frozen=True)
class Context:
    """What the search knows when it builds an estimator."""

    task: str
    quantile: float | None = None  # the newsvendor quantile, when training for money
    seed: int = 0


@dataclass(frozen=True)
class Algorithm:
    name: str
    tasks: frozenset[str]
    family: Family
    space: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    build: Callable[[dict[str, Any], Context], Any] | None = field(default=None, repr=False)
    # regression-only hyperparameters (e.g. the loss), offered only when they mean something
    regression_space: dict[str, Any] = field(default_factory=dict)
    # classification-only: probability calibration (CalibratedClassifierCV), "none" by default
    classification_space: dict[str, Any] = field(
        default_factory=lambda: {"calibration": {"choices": ["none", "sigmoid", "isotonic"]}}
    )
    # the most a design may ask of each hyperparameter the work of a fit grows with (trees, iterations,
    # leaves, depth): far above the default space, low enough that no trial asks for 10^100 trees and
    # never ends. Values the library itself refuses (0 trees) fail their trial, as any other error.
    ceilings: dict[str, float] = field(default_factory=dict)

    def space_for(self, context: Context) -> dict[str, Any]:
        space = dict(self.space)
        if context.task == "classification":
            space.update({k: dict(v) for k, v in self.classification_space.items()})
        if context.task == "regression":
            for name, spec in self.regression_space.items():
                choices = list(spec["choices"])
                if context.quantile is None:
                    choices = [c for c in choices if c != "quantile"]
                space[name] = {"choices": choices}
        return space

    def defaults_for(self, context: Context) -> dict[str, Any]:
        defaults = dict(self.defaults)
        if context.task == "classification":
            defaults.update({k: v["choices"][0] for k, v in self.classification_space.items()})
        for name in self.regression_space:
            if context.task == "regression":
                defaults[name] = self.space_for(context)[name]["choices"][0]
            else:
                defaults.pop(name, None)
        return defaults

    def estimator(self, params: dict[str, Any], context: Context) -> Any:
        assert self.build is not None
        estimator = self.build(params, context)
        calibration = params.get("calibration", "none")
        if context.task == "classification" and calibration != "none":
            from sklearn.calibration import CalibratedClassifierCV

            return CalibratedClassifierCV(estimator, method=calibration, cv=3)
        return estimator


def _ridge(p: dict[str, Any], c: Context) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=float(p.get("alpha", 1.0)))


def _logistic(p: dict[str, Any], c: Context) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=float(p.get("C", 1.0)), max_iter=2000)


def _random_forest(p: dict[str, Any], c: Context) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestRegressor if c.task == "regression" else RandomForestClassifier
    return cls(
        n_estimators=int(p.get("n_estimators", 100)),
        max_depth=_int_or_none(p.get("max_depth")),
        min_samples_leaf=int(p.get("min_samples_leaf", 1)),
        n_jobs=1,
        random_state=c.seed,
    )


def _gradient_boosting(p: dict[str, Any], c: Context) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    common = dict(
        learning_rate=float(p.get("learning_rate", 0.1)),
        max_leaf_nodes=int(p.get("max_leaf_nodes", 31)),
        min_samples_leaf=int(p.get("min_samples_leaf", 20)),
        max_iter=int(p.get("max_iter", 100)),
        random_state=c.seed,
    )
    if c.task == "classification":
        return HistGradientBoostingClassifier(**common)
    loss = p.get("loss", "squared_error")
    extra = {"quantile": c.quantile} if loss == "quantile" else {}
    return HistGradientBoostingRegressor(loss=loss, **extra, **common)


def _lightgbm(p: dict[str, Any], c: Context) -> Any:
    import lightgbm

    common: dict[str, Any] = dict(
        num_leaves=int(p.get("num_leaves", 31)),
        learning_rate=float(p.get("learning_rate", 0.05)),
        n_estimators=int(p.get("n_estimators", 300)),
        min_child_samples=int(p.get("min_child_samples", 20)),
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        num_threads=1,
        verbose=-1,
        random_state=c.seed,
    )
    if c.task == "classification":
        return lightgbm.LGBMClassifier(**common)
    objective = p.get("objective", "l2")
    extra: dict[str, Any] = {"alpha": c.quantile} if objective == "quantile" else {}
    return lightgbm.LGBMRegressor(objective=objective, **extra, **common)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


_REGRESSION = frozenset({"regression"})
_CLASSIFICATION = frozenset({"classification"})
_BOTH = _REGRESSION | _CLASSIFICATION

REGISTRY: dict[str, Algorithm] = {
    a.name: a
    for a in [
        Algorithm(
            "ridge",
            _REGRESSION,
            "linear",
            {"alpha": {"low": 1e-3, "high": 100.0, "log": True}},
            {"alpha": 1.0},
            "scikit-learn Ridge: a linear model with L2 shrinkage",
            _ridge,
        ),
        Algorithm(
            "logistic_regression",
            _CLASSIFICATION,
            "linear",
            {"C": {"low": 1e-3, "high": 100.0, "log": True}},
            {"C": 1.0},
            "scikit-learn LogisticRegression",
            _logistic,
        ),
        Algorithm(
            "random_forest",
            _BOTH,
            "tree",
            {
                "n_estimators": {"low": 50, "high": 300},
                "max_depth": {"low": 3, "high": 16},
                "min_samples_leaf": {"low": 1, "high": 20},
            },
            {"n_estimators": 100, "max_depth": 12, "min_samples_leaf": 5},
            "scikit-learn RandomForest",
            _random_forest,
            ceilings={"n_estimators": 5_000, "max_depth": 100},
        ),
        Algorithm(
            "gradient_boosting",
            _BOTH,
            "tree",
            {
                "learning_rate": {"low": 0.01, "high": 0.3, "log": True},
                "max_leaf_nodes": {"low": 8, "high": 64},
                "min_samples_leaf": {"low": 5, "high": 100},
                "max_iter": {"low": 50, "high": 500},
            },
            {"learning_rate": 0.05, "max_leaf_nodes": 31, "min_samples_leaf": 20, "max_iter": 200},
            "scikit-learn HistGradientBoosting",
            _gradient_boosting,
            regression_space={"loss": {"choices": ["quantile", "absolute_error", "squared_error"]}},
            ceilings={"max_leaf_nodes": 4_096, "max_iter": 10_000},
        ),
        Algorithm(
            "lightgbm",
            _BOTH,
            "tree",
            {
                "num_leaves": {"low": 8, "high": 128},
                "learning_rate": {"low": 0.01, "high": 0.3, "log": True},
                "n_estimators": {"low": 50, "high": 500},
                "min_child_samples": {"low": 5, "high": 100},
            },
            {"num_leaves": 31, "learning_rate": 0.05, "n_estimators": 300, "min_child_samples": 20},
            "LightGBM gradient-boosted trees",
            _lightgbm,
            regression_space={"objective": {"choices": ["quantile", "l1", "l2"]}},
            ceilings={"num_leaves": 4_096, "n_estimators": 10_000},
        ),
    ]
}


def for_task(task: str) -> list[str]:
    """Algorithms that fit a task, in registry order (as the contract was told them)."""
    return vocabulary().algorithm_names(task)


def tunable(name: str) -> list[str]:
    """Every hyperparameter name a design may set for this algorithm."""
    algorithm = REGISTRY[name]
    return [*algorithm.space, *algorithm.regression_space, *algorithm.classification_space]


for _algorithm in REGISTRY.values():
    tell(
        AlgorithmTerm(
            _algorithm.name,
            _algorithm.tasks,
            tuple(tunable(_algorithm.name)),
            tuple(_algorithm.space),
            dict(_algorithm.ceilings),
        )
    )


def preprocessing(family: Family, columns: list[str], categorical: list[str]) -> ColumnTransformer:
    """Turn the built features into a numeric matrix the estimator family can use.

    Trees read categories as ordinal codes (unknown → −1) and keep NaN, which they handle;
    linear models get one-hot categories, median-imputed numbers with a missing-indicator,
    and scaling.
    """
    categorical = [c for c in columns if c in categorical or (family == "linear" and c in CYCLIC)]
    numeric = [c for c in columns if c not in categorical]
    if family == "tree":
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1, dtype=np.float64
        )
        transformers = [("categories", encoder, categorical), ("numbers", "passthrough", numeric)]
    else:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        numbers: Pipeline = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True), StandardScaler()
        )
        transformers = [("categories", encoder, categorical), ("numbers", numbers, numeric)]
    return ColumnTransformer([t for t in transformers if t[2]], remainder="drop", verbose_feature_names_out=False)


def is_categorical(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
