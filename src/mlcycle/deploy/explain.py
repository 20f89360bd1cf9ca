"""Per-prediction explanations: each feature's contribution, summing with a base value to the prediction.

Exact where the model allows it, by the model family:

- linear models (Ridge, LogisticRegression): ``coef · (x − mean of training x)``, exact;
- LightGBM: its own ``pred_contrib`` (TreeSHAP inside LightGBM);
- other trees (RandomForest, HistGradientBoosting): SHAP's ``TreeExplainer``.

Contributions are computed on the model's prepared matrix and summed back to the data
variant's features (one-hot columns and missing-value indicators to the feature they came
from), so a shop manager reads "price", not "item_85099B". For classifiers they are in
log-odds for linear models and LightGBM, and in probability for SHAP's tree explanations;
``space`` says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline


@dataclass
class Explanation:
    base: np.ndarray                 # one base value per row
    contributions: pd.DataFrame      # rows × features
    prediction: np.ndarray           # base + contributions.sum(axis=1)
    space: str                       # "value" (regression), "log-odds" or "probability"


class Explainer:
    """Explains a fitted trial Pipeline (features → prepare → model)."""

    def __init__(self, pipeline: Pipeline, task: str) -> None:
        self.pipeline = pipeline
        self.task = task
        self._background: np.ndarray | None = None
        self._tree: Any = None

    @property
    def model(self) -> Any:
        return self.pipeline.named_steps["model"]

    @property
    def kind(self) -> str:
        name = type(self.model).__name__
        if name.startswith("LGBM"):
            return "lightgbm"
        if hasattr(self.model, "coef_"):
            return "linear"
        return "tree"

    def fit(self, train: pd.DataFrame) -> Explainer:
        """Remember what the linear baseline point is (the mean prepared row of the training data)."""
        if self.kind == "linear":
            prepared = self._prepare(train)
            self._background = prepared.mean(axis=0)
        return self

    def _prepare(self, rows: pd.DataFrame, built: pd.DataFrame | None = None) -> np.ndarray:
        built = self.pipeline.named_steps["features"].transform(rows) if built is None else built
        return np.asarray(self.pipeline.named_steps["prepare"].transform(built), dtype=float)

    def _sources(self) -> list[str]:
        """For each prepared column, the variant feature it came from."""
        prepare = self.pipeline.named_steps["prepare"]
        sources: list[str] = []
        for name, transformer, columns in prepare.transformers_:
            if name == "remainder" or transformer == "drop":
                continue
            outputs = list(transformer.get_feature_names_out(columns)) if transformer != "passthrough" else list(columns)
            for output in outputs:
                sources.append(_source_of(output, list(columns)))
        return sources

    def explain(self, rows: pd.DataFrame, built: pd.DataFrame | None = None) -> Explanation:
        prepared = self._prepare(rows, built)
        kind = self.kind
        if kind == "linear":
            if self._background is None:
                raise RuntimeError("call fit(train) before explaining a linear model")
            coef = np.atleast_2d(self.model.coef_)[0]
            intercept = float(np.atleast_1d(self.model.intercept_)[0])
            raw = (prepared - self._background) * coef
            base = np.full(len(rows), intercept + float(self._background @ coef))
            space = "value" if self.task == "regression" else "log-odds"
        elif kind == "lightgbm":
            out = self.model.predict(prepared, pred_contrib=True)
            out = np.asarray(out[1] if isinstance(out, list) else out, dtype=float)
            raw, base = out[:, :-1], out[:, -1]
            space = "value" if self.task == "regression" else "log-odds"
        else:
            import shap

            if self._tree is None:
                self._tree = shap.TreeExplainer(self.model)
            values = self._tree.shap_values(prepared, check_additivity=False)
            expected = self._tree.expected_value
            if self.task == "classification":
                values = values[..., 1] if np.ndim(values) == 3 else values[1]
                expected = np.atleast_1d(expected)[-1]
            raw = np.asarray(values, dtype=float)
            base = np.full(len(rows), float(np.atleast_1d(expected)[0]))
            space = "value" if self.task == "regression" else "probability"
        sources = self._sources()
        per_feature = pd.DataFrame(raw, columns=range(raw.shape[1])).T.groupby(sources, sort=False).sum().T
        features = list(self.pipeline.named_steps["features"].get_feature_names_out())
        per_feature = per_feature.reindex(columns=features, fill_value=0.0)
        per_feature.index = rows.index
        return Explanation(base, per_feature, base + per_feature.sum(axis=1).to_numpy(), space)


def _source_of(output: str, columns: list[str]) -> str:
    if output in columns:
        return output
    if output.startswith("missingindicator_") and output.removeprefix("missingindicator_") in columns:
        return output.removeprefix("missingindicator_")
    matches = [c for c in columns if output.startswith(f"{c}_")]
    return max(matches, key=len) if matches else output


def check_additivity(explainer: Explainer, rows: pd.DataFrame, predicted: np.ndarray) -> float:
    """Largest gap between base + contributions and the model's own output, on ``rows``."""
    explanation = explainer.explain(rows)
    if explanation.space == "log-odds":
        predicted = np.log(predicted / (1 - predicted))
    return float(np.max(np.abs(explanation.prediction - predicted))) if len(rows) else 0.0


_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]


def describe_feature(name: str, value: Any, labels: dict[str, str], target: str) -> str:
    """A feature and its value as a shop manager would say it ("Saturday", "units 7 days before: 36")."""
    if name == "day_of_week" and value == value:
        return _DAYS[int(value)]
    if name == "month" and value == value:
        return _MONTHS[int(value) - 1]
    if name == "is_holiday":
        return labels.get(name, "public holiday") if value else f"no {labels.get(name, 'public holiday')}"
    label = labels.get(name)
    for prefix, wording in ((f"{target}_lag_", "{t} {k} days before"), (f"{target}_mean_", "average {t} over the previous {k} days")):
        if name.startswith(prefix):
            label = label or wording.format(t=labels.get(target, target), k=name.removeprefix(prefix))
    label = label or name.replace("_", " ")
    if isinstance(value, float):
        if value != value:
            return f"{label} unknown"
        value = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{label} {value}"


def sentence(prediction: Any, row: pd.Series, contributions: pd.Series, *, labels: dict[str, str], target: str,
             task: str, top: int = 3) -> str:
    """One plain-language sentence: the prediction and the few features that moved it most."""
    strongest = contributions.reindex(contributions.abs().sort_values(ascending=False).index).head(top)
    reasons = [f"{describe_feature(name, row.get(name), labels, target)} ({value:+,.0f})" if abs(value) >= 1
               else f"{describe_feature(name, row.get(name), labels, target)} ({value:+.2f})"
               for name, value in strongest.items() if value != 0]
    what = labels.get(target, target)
    head = f"Forecast {float(prediction):,.0f} {what}" if task == "regression" else f"Predicted {prediction}"
    return f"{head}: {', '.join(reasons)}." if reasons else f"{head}."
