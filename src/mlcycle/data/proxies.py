"""Proxies: how well the features a model may use stand in for a column it must not use.

A forbidden list stops a model from reading ``ethnicity``; it does not stop it from reading the
postcode that gives ethnicity away. So, for a forbidden (or protected) column present in the
data, a small model tries to predict it from the allowed features, cross-validated: ROC AUC
(one class against the rest, averaged) when the column is categorical, R² when it is numeric.
Alone, each feature's mutual information with the column says which ones carry it, strongest first.
A score near 0.5 (AUC) or 0 (R²) means the features say nothing about the column; the design's
``requirements.compliance.proxy_max_auc`` / ``proxy_max_r2`` say how much is too much: the data check
warns above it, and the promotion gate refuses the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

MAX_ROWS = 20_000  # a proxy shows itself in a sample; more rows cost time and change nothing
MAX_CATEGORIES = 250  # per feature; the rarer ones are pooled as one


@dataclass(frozen=True)
class Proxy:
    """What the ``features`` reveal of ``column``."""

    column: str
    measure: str  # "roc_auc" (a categorical column) or "r2" (a numeric one)
    score: float  # cross-validated, out of fold
    strongest: tuple[tuple[str, float], ...]  # features by mutual information with the column, highest first
    rows: int

    def describe(self) -> str:
        shown = ", ".join(f"{name} ({information:.2f})" for name, information in self.strongest[:3])
        return (
            f"the allowed features predict {self.column!r} with {self.measure} {self.score:.2f} "
            f"(cross-validated on {self.rows:,} rows); strongest: {shown or 'none'}"
        )


def measure(frame: pd.DataFrame, column: str, features: list[str], *, folds: int = 3, seed: int = 0) -> Proxy:
    """How well ``features`` predict ``column`` (rows where it is missing are left out)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
    from sklearn.metrics import r2_score, roc_auc_score
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    rows = frame[frame[column].notna()]
    if len(rows) > MAX_ROWS:
        rows = rows.sample(MAX_ROWS, random_state=seed)
    X, categorical = _encoded(rows[[f for f in features if f != column]])
    target = rows[column]
    numeric = pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(target) and target.nunique() > 10
    if numeric:
        y = target.to_numpy(dtype=float)
        model = HistGradientBoostingRegressor(max_iter=100, categorical_features=categorical or None, random_state=seed)
        predicted = cross_val_predict(model, X, y, cv=KFold(folds, shuffle=True, random_state=seed))
        score = float(r2_score(y, predicted))
        information = mutual_info_regression(X, y, discrete_features=categorical or False, random_state=seed)
    else:
        codes, classes = pd.factorize(target.astype(str), sort=True)
        model = HistGradientBoostingClassifier(
            max_iter=100, categorical_features=categorical or None, random_state=seed
        )
        splits = StratifiedKFold(min(folds, int(np.bincount(codes).min())), shuffle=True, random_state=seed)
        probability = cross_val_predict(model, X, codes, cv=splits, method="predict_proba")
        score = float(
            roc_auc_score(codes, probability[:, 1])
            if len(classes) == 2
            else roc_auc_score(codes, probability, multi_class="ovr", average="macro")
        )
        information = mutual_info_classif(X, codes, discrete_features=categorical or False, random_state=seed)
    ranked = sorted(zip(X.columns, information), key=lambda pair: -pair[1])
    return Proxy(column, "r2" if numeric else "roc_auc", score, tuple((str(n), float(i)) for n, i in ranked), len(rows))


def _encoded(features: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    """Numbers as they are (missing as -1 for the information measure), categories as codes; their positions."""
    out = pd.DataFrame(index=features.index)
    categorical = []
    for position, name in enumerate(features.columns):
        series = features[name]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            out[name] = series.astype(float).fillna(-1.0)
        else:
            text = series.astype(str)
            top = text.value_counts().index[:MAX_CATEGORIES]  # the model takes at most 255 categories per feature
            out[name] = pd.factorize(text.where(text.isin(top), "__other__"), sort=True)[0].astype(float)
            categorical.append(position)
    return out, categorical


def limit(compliance: Any, found: Proxy) -> float:
    """The design's ceiling for this kind of score: ``proxy_max_auc`` or ``proxy_max_r2``."""
    return float(compliance.proxy_max_auc if found.measure == "roc_auc" else compliance.proxy_max_r2)


__all__ = ["MAX_ROWS", "Proxy", "limit", "measure"]
