"""Per-prediction explanations: each feature's contribution, summing with a base value to the prediction.

Every algorithm the search can pick is explainable, exactly where the model allows it:

- linear models (Ridge, LogisticRegression): ``coef · (x − mean of training x)``, exact;
- LightGBM: its own ``pred_contrib`` (TreeSHAP inside LightGBM);
- other trees (RandomForest, HistGradientBoosting): SHAP's ``TreeExplainer``;
- anything else — a classifier wrapped in probability calibration (``CalibratedClassifierCV``)
  averages several calibrated models, which no tree or linear formula explains — SHAP's
  model-agnostic ``PermutationExplainer`` against a small sample of training rows. Each
  permutation telescopes from the background's mean output to the row's own, so its
  contributions add up *exactly*; how the total is shared between features is an estimate.

Contributions are computed on the model's prepared matrix and summed back to the data
variant's features (one-hot columns and missing-value indicators to the feature they came
from), so a shop manager reads "price", not "item_85099B".

**The space they add up in.** Regression: the prediction itself (``"value"``). A classifier's
contributions add up either to the **log-odds** of the positive class (linear models,
LightGBM, HistGradientBoosting: the models' own raw output) or to its **probability**
(RandomForest, which averages probabilities, and calibrated models). ``Explanation.space``
says which, the service returns it with every explanation, and the plain-language sentence
names it ("+0.42 log-odds").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from mlcycle.exceptions import UsageError
from mlcycle.metrics import decision


@dataclass
class Explanation:
    base: np.ndarray  # one base value per row
    contributions: pd.DataFrame  # rows × features
    prediction: np.ndarray  # base + contributions.sum(axis=1)
    space: str  # "value" (regression), "log-odds" or "probability"


class Explainer:
    """Explains a fitted trial Pipeline (features → prepare → model).

    ``fit(train)`` keeps what the model family needs from the training rows: the mean prepared
    row (linear models) or a small seeded sample of prepared rows (the permutation explainer's
    background). Nothing else is kept, so the explainer pickles small with the model.
    """

    BACKGROUND_ROWS = 10
    PERMUTATIONS = 4  # more would steady how the total is shared; additivity is exact with any number

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
        """How this model is explained: linear, lightgbm, tree (SHAP TreeExplainer) or permutation."""
        name = type(self.model).__name__
        if name.startswith("LGBM"):
            return "lightgbm"
        if hasattr(self.model, "coef_"):
            return "linear"
        if name.startswith(("RandomForest", "HistGradientBoosting", "ExtraTrees", "DecisionTree")):
            return "tree"
        return "permutation"

    def fit(self, train: pd.DataFrame) -> Explainer:
        """Remember the linear baseline point, or the permutation explainer's background rows."""
        kind = self.kind
        if kind == "linear":
            self._background = self._prepare(train).mean(axis=0)
        elif kind == "permutation":
            sample = train.sample(min(len(train), self.BACKGROUND_ROWS), random_state=0) if len(train) else train
            self._background = self._prepare(sample)
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
            outputs = (
                list(transformer.get_feature_names_out(columns)) if transformer != "passthrough" else list(columns)
            )
            for output in outputs:
                sources.append(_source_of(output, list(columns)))
        return sources

    def explain(self, rows: pd.DataFrame, built: pd.DataFrame | None = None) -> Explanation:
        prepared = self._prepare(rows, built)
        kind = self.kind
        if kind == "linear":
            raw, base, space = self._linear(prepared)
        elif kind == "lightgbm":
            out = self.model.predict(prepared, pred_contrib=True)
            out = np.asarray(out[1] if isinstance(out, list) else out, dtype=float)
            raw, base = out[:, :-1], out[:, -1]
            space = "value" if self.task == "regression" else "log-odds"
        elif kind == "tree":
            raw, base, space = self._tree_shap(prepared)
        else:
            raw, base, space = self._permutation(prepared)
        sources = self._sources()
        per_feature = pd.DataFrame(raw, columns=range(raw.shape[1])).T.groupby(sources, sort=False).sum().T
        features = list(self.pipeline.named_steps["features"].get_feature_names_out())
        per_feature = per_feature.reindex(columns=features, fill_value=0.0)
        per_feature.index = rows.index
        return Explanation(base, per_feature, base + per_feature.sum(axis=1).to_numpy(), space)

    def _linear(self, prepared: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        if self._background is None:
            raise UsageError("call Explainer.fit(train) before explaining a linear model")
        coef = np.atleast_2d(self.model.coef_)[0]
        intercept = float(np.atleast_1d(self.model.intercept_)[0])
        raw = (prepared - self._background) * coef
        base = np.full(len(prepared), intercept + float(self._background @ coef))
        return raw, base, "value" if self.task == "regression" else "log-odds"

    def _tree_shap(self, prepared: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        import shap

        if self._tree is None:
            self._tree = shap.TreeExplainer(self.model)
        values = self._tree.shap_values(prepared, check_additivity=False)
        expected = np.atleast_1d(self._tree.expected_value)
        space = "value"
        if self.task == "classification":
            if isinstance(values, list) or np.ndim(values) == 3:
                # one output per class: probabilities (RandomForest averages its trees' class shares)
                values = values[1] if isinstance(values, list) else values[..., 1]
                expected, space = expected[-1:], "probability"
            else:
                space = "log-odds"  # a single raw margin (HistGradientBoosting)
        raw = np.asarray(values, dtype=float)
        return raw, np.full(len(prepared), float(expected[0])), space

    def _permutation(self, prepared: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        import shap

        if self._background is None:
            raise UsageError("call Explainer.fit(train) before explaining this model")
        model, task = self.model, self.task
        space = "probability" if task == "classification" else "value"

        def output(matrix: np.ndarray) -> np.ndarray:
            return decision.values(model, matrix, task)

        columns = prepared.shape[1]
        explainer = shap.PermutationExplainer(
            output, shap.maskers.Independent(self._background, max_samples=len(self._background)), seed=0
        )
        result = explainer(prepared, max_evals=self.PERMUTATIONS * (2 * columns + 1), silent=True)
        raw = np.asarray(result.values, dtype=float).reshape(len(prepared), columns)
        return raw, np.asarray(result.base_values, dtype=float).reshape(len(prepared)), space

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_tree"] = None  # SHAP's explainer is rebuilt on first use; it need not travel with the model
        return state


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
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def describe_feature(name: str, value: Any, labels: dict[str, str], target: str, unit: str = "day") -> str:
    """A feature and its value as a shop manager would say it ("Saturday", "units 7 days before: 36")."""
    if name == "day_of_week" and value == value:
        return _DAYS[int(value)]
    if name == "month" and value == value:
        return _MONTHS[int(value) - 1]
    if name == "is_holiday":
        return labels.get(name, "public holiday") if value else f"no {labels.get(name, 'public holiday')}"
    label = labels.get(name)
    for prefix, wording in (
        (f"{target}_lag_", "{t} {k} {u}s before"),
        (f"{target}_mean_", "average {t} over the previous {k} {u}s"),
    ):
        if name.startswith(prefix):
            label = label or wording.format(t=labels.get(target, target), k=name.removeprefix(prefix), u=unit)
    label = label or name.replace("_", " ")
    if isinstance(value, float):
        if value != value:
            return f"{label} unknown"
        value = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{label} {value}"


def sentence(
    prediction: Any,
    row: pd.Series,
    contributions: pd.Series,
    *,
    labels: dict[str, str],
    target: str,
    task: str,
    top: int = 3,
    space: str = "value",
    probability: float | None = None,
    unit: str = "day",
    threshold: float | None = None,
) -> str:
    """One plain-language sentence: the prediction and the few features that moved it most.

    A classifier's sentence names the space its contributions add up in ("+0.42 log-odds",
    "+0.08 probability"), because a reader cannot tell from the numbers alone, and the decision
    threshold: a money-optimal threshold far from 0.5 otherwise makes "Predicted True
    (probability 0.09)" read as a mistake.
    """
    strongest = contributions.reindex(contributions.abs().sort_values(ascending=False).index).head(top)
    where = "" if space == "value" else f" {space}"
    reasons = [
        f"{describe_feature(name, row.get(name), labels, target, unit)} ({value:+,.0f}{where})"
        if abs(value) >= 1
        else f"{describe_feature(name, row.get(name), labels, target, unit)} ({value:+.2f}{where})"
        for name, value in strongest.items()
        if value != 0
    ]
    what = labels.get(target, target)
    if task == "regression":
        head = f"Forecast {float(prediction):,.0f} {what}"
    else:
        cut = f", decided at {threshold:.2f} for the most money" if threshold is not None else ""
        head = f"Predicted {prediction}" + (
            f" (probability of the positive class {probability:.2f}{cut})" if probability is not None else ""
        )
    return f"{head}: {', '.join(reasons)}." if reasons else f"{head}."


def reasons(
    decision: Any,
    positive: bool,
    row: pd.Series,
    contributions: pd.Series,
    *,
    typical: dict[str, float],
    labels: dict[str, str],
    target: str,
    space: str,
    top: int = 3,
    unit: str = "day",
) -> tuple[list[dict[str, Any]], str]:
    """A decision's main reasons, the way an adverse-action notice gives them: the features that pushed *towards*
    the decision taken (towards the positive class for a positive decision, away from it otherwise), strongest
    first, each with its value, whether it is high or low against the training rows' median (``typical``), and its
    contribution. Returns the reasons and one sentence ("Yes mainly because: balance 2,300 is high (+0.81 log-odds);
    …"). Features that pushed the other way are not reasons for this decision and are left out."""
    toward = contributions[contributions > 0] if positive else contributions[contributions < 0]
    strongest = toward.reindex(toward.abs().sort_values(ascending=False).index).head(top)
    found: list[dict[str, Any]] = []
    texts: list[str] = []
    for name, value in strongest.items():
        raw = row.get(name)
        middle = typical.get(str(name))
        level = None
        if middle is not None and isinstance(raw, int | float | np.integer | np.floating) and raw == raw:
            level = "high" if float(raw) > middle else "low" if float(raw) < middle else None
        words = describe_feature(str(name), raw, labels, target, unit) + (f" is {level}" if level else "")
        amount = f"{value:+,.0f}" if abs(value) >= 1 else f"{value:+.2f}"
        texts.append(f"{words} ({amount} {space})")
        found.append(
            {
                "feature": str(name),
                "value": _plain(raw),
                "level": level,
                "contribution": float(value),
                "text": texts[-1],
            }
        )
    head = f"{decision} mainly because"
    text = (
        f"{head}: " + "; ".join(r["text"] for r in found) + "."
        if found
        else f"{decision}: no feature pushed towards it."
    )
    return found, text


def _plain(value: Any) -> Any:
    """A value as JSON holds it: numpy scalars as Python ones, NaN as None (the audit log is JSON)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
