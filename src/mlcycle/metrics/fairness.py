"""Fairness per group: the same figures for every group of a protected column, and how far apart they are.

A list of forbidden inputs is not enough: a model that never sees gender can still miss far more of one
gender's cases. So for each column the design names in ``requirements.compliance.protected`` — present in the
data, even when it is forbidden as an input — this module measures, per group:

- the **decision rates** a regulator reads: for classification the *selection rate* (share of rows the model
  acts on), the *false-positive* and *false-negative* rates; for regression the *mean error* (ŷ − y, signed),
  the *mean absolute error* and the *under-* and *over-forecast rates* (share of rows forecast below / above);
- the design's own data-scientist and domain-expert metrics, and the *cost per prediction* (the business view
  per row: money lost per period does not split into groups, the running cost belongs to none of them);

computed by fairlearn's :class:`~fairlearn.metrics.MetricFrame`, the rates and means with a 90 % bootstrap
interval (rows resampled; see :func:`_bootstrap` for why not fairlearn's own ``n_boot``). Then, per metric,
the **disparity** between the groups, both ways fairlearn defines it:

- *difference* — the highest group's figure minus the lowest's, in the metric's unit (0 = equal);
- *ratio* — the lowest group's figure over the highest's (1 = equal; the "four-fifths rule" asks ≥ 0.8).

``requirements.compliance.max_disparity`` sets a limit on either or both; :func:`judge` compares. Groups with
fewer than ``min_group_rows`` rows are left out of the comparison (and named), since a rate over ten rows
would fail or pass any limit by chance. The groups are :func:`mlcycle.data.groups.groups_of`'s: numbers with
many values cut at their quartiles, missing values a group of their own.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlcycle.data.groups import groups_of
from mlcycle.metrics import catalogue
from mlcycle.metrics.cost import CostModel

if TYPE_CHECKING:
    from mlcycle.contract.spec import Design

BOOTSTRAPS = 100
QUANTILES = (0.05, 0.95)

CLASSIFICATION_RATES = ("selection_rate", "false_positive_rate", "false_negative_rate")
REGRESSION_RATES = ("mean_error", "mae", "under_forecast_rate", "over_forecast_rate")
SIGNED = frozenset({"mean_error", "forecast_bias"})  # a ratio of signed figures means nothing
LABELS = {
    "selection_rate": "selection rate",
    "false_positive_rate": "false-positive rate",
    "false_negative_rate": "false-negative rate",
    "mean_error": "mean error",
    "mae": "mean absolute error",
    "under_forecast_rate": "under-forecast rate",
    "over_forecast_rate": "over-forecast rate",
    "cost_per_prediction": "cost per prediction",
}


def rates(task: str) -> tuple[str, ...]:
    """The decision rates measured for a task; the default metrics ``max_disparity`` limits."""
    return CLASSIFICATION_RATES if task == "classification" else REGRESSION_RATES


@dataclass(frozen=True)
class Figure:
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Group:
    name: str
    rows: int
    figures: dict[str, Figure]


@dataclass(frozen=True)
class Disparity:
    """One metric across the compared groups."""

    metric: str
    highest: str  # the group with the highest figure
    lowest: str
    difference: Figure  # highest − lowest
    ratio: Figure  # lowest ÷ highest (NaN for a signed metric, or when the highest is 0)


@dataclass(frozen=True)
class Fairness:
    """The groups of one protected column and the disparity of every measured metric between them."""

    column: str
    groups: tuple[Group, ...]
    disparities: dict[str, Disparity]
    left_out: tuple[tuple[str, int], ...]  # (group, rows) too small to compare

    def to_json(self) -> dict[str, Any]:
        return _finite(asdict(self))


@dataclass(frozen=True)
class Finding:
    """One limit of ``max_disparity`` against one metric of one protected column."""

    column: str
    metric: str
    kind: str  # "difference" | "ratio"
    limit: float
    measured: Figure
    passed: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        """As a monitoring window keeps it: the measured figure alone, None when it could not be computed."""
        value = self.measured.value
        return {
            "metric": self.metric,
            "kind": self.kind,
            "limit": self.limit,
            "value": value if math.isfinite(value) else None,
            "passed": self.passed,
            "detail": self.detail,
        }


def measure(
    design: Design,
    costs: CostModel,
    column: str,
    groups: pd.Series,
    actual: np.ndarray,
    prediction: np.ndarray,
    *,
    threshold: float | None = None,
    decided: np.ndarray | None = None,
    min_group_rows: int = 30,
    seed: int = 0,
) -> Fairness:
    """The figures per group of ``groups`` (one value per row) for predictions against their actuals.

    ``actual`` is the value, or 1/0 for the positive class; ``prediction`` the forecast, or the probability of
    the positive class (``threshold`` turns it into the decision, as the served model does; or ``decided`` gives
    the decisions as they were made, 1/0, as the prediction log has them)."""
    from fairlearn.metrics import MetricFrame

    from mlcycle.metrics import decision

    actual = np.asarray(actual, dtype=float)
    prediction = np.asarray(prediction, dtype=float)
    names = groups_of(groups)
    counts = names.value_counts()
    compared = sorted(str(g) for g, n in counts.items() if n >= min_group_rows)
    left_out = tuple((str(g), int(n)) for g, n in counts.items() if n < min_group_rows)
    if not compared:
        return Fairness(column, (), {}, left_out)
    keep = names.isin(compared).to_numpy()
    classification = design.task == "classification"
    if not classification:
        decided = prediction
    elif decided is None:
        decided = decision.decide(prediction, threshold)
    decided = np.asarray(decided, dtype=float)
    functions = _functions(design, costs)
    with warnings.catch_warnings():  # a group without positives makes a rate 0/0: NaN, shown as —
        warnings.simplefilter("ignore")
        frame = MetricFrame(
            metrics=functions,
            y_true=actual[keep],
            y_pred=decided[keep],
            sensitive_features=names[keep].to_numpy(),
            sample_params={name: {"score": prediction[keep]} for name in functions},
        )
    by_group = frame.by_group.astype(float)
    members = names[keep].to_numpy()
    draws = _bootstrap(design, costs, actual[keep], decided[keep], members, compared, seed)  # metric → (B, groups)
    groups_out = tuple(
        Group(
            g,
            int(counts[g]),
            {m: _interval(float(by_group.loc[g, m]), draws[m][:, i] if m in draws else None) for m in functions},
        )
        for i, g in enumerate(compared)
    )
    disparities: dict[str, Disparity] = {}
    if len(compared) >= 2:
        difference, ratio = frame.difference(), frame.ratio()
        for m in functions:
            values = by_group[m]
            if values.isna().any():
                continue
            sampled = draws.get(m)
            signed = m in SIGNED or values.min() < 0
            with np.errstate(invalid="ignore", divide="ignore"):
                gaps = None if sampled is None else sampled.max(axis=1) - sampled.min(axis=1)
                ratios = None if sampled is None or signed else sampled.min(axis=1) / sampled.max(axis=1)
            disparities[m] = Disparity(
                m,
                str(values.idxmax()),
                str(values.idxmin()),
                _interval(float(difference[m]), gaps),
                Figure(math.nan, math.nan, math.nan) if signed else _interval(float(ratio[m]), ratios),
            )
    return Fairness(column, groups_out, disparities, left_out)


def _bootstrap(
    design: Design,
    costs: CostModel,
    actual: np.ndarray,
    decided: np.ndarray,
    members: np.ndarray,
    compared: list[str],
    seed: int,
) -> dict[str, np.ndarray]:
    """Each rate and mean's figure per group over ``BOOTSTRAPS`` Poisson resamples of the rows, vectorised.

    fairlearn's own ``n_boot`` rebuilds a MetricFrame per resample and stacks every value one by one: 80 s for
    4,000 rows and ten metrics. Every decision rate, error mean and the cost per prediction is a ratio of two
    sums over a group's rows, so one matrix product per resample count gives them all (0.1 s). The design's
    catalogue metrics per group (F1, ROC AUC …) are shown without an interval."""
    rng = np.random.default_rng(seed)
    weights = rng.poisson(1.0, size=(BOOTSTRAPS, len(actual))).astype(np.float32)
    if design.task == "classification":
        parts = {
            "selection_rate": (decided, np.ones_like(decided)),
            "false_positive_rate": (decided, 1.0 - actual),
            "false_negative_rate": (1.0 - decided, actual),
        }
    else:
        error = decided - actual
        ones = np.ones_like(error)
        parts = {
            "mean_error": (error, ones),
            "mae": (np.abs(error), ones),
            "under_forecast_rate": ((error < 0).astype(float), ones),
            "over_forecast_rate": ((error > 0).astype(float), ones),
        }
    parts["cost_per_prediction"] = (costs.money_lost(actual, decided), np.ones_like(actual))
    index = {g: i for i, g in enumerate(compared)}
    one_hot = np.zeros((len(actual), len(compared)), dtype=np.float32)
    one_hot[np.arange(len(actual)), [index[g] for g in members]] = 1.0
    out = {}
    for name, (value, mask) in parts.items():
        numerator = weights @ (one_hot * (value * mask)[:, None])
        denominator = weights @ (one_hot * mask[:, None])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = numerator / denominator
    return out


def _interval(value: float, draws: np.ndarray | None) -> Figure:
    if draws is None or not np.isfinite(draws).any():
        return Figure(value, math.nan, math.nan)
    low, high = np.nanquantile(draws, QUANTILES)
    return Figure(value, float(min(low, value)), float(max(high, value)))


def judge(fairness: Fairness, metrics: list[str], difference: float | None, ratio: float | None) -> list[Finding]:
    """Each limit on each metric: difference ≤ its limit, ratio ≥ its limit."""
    findings = []
    for metric in metrics:
        gap = fairness.disparities.get(metric)
        for kind, limit in (("difference", difference), ("ratio", ratio)):
            if limit is None:
                continue
            if gap is None:
                reason = (
                    f"fewer than two groups of {fairness.column} have enough rows to compare"
                    if len(fairness.groups) < 2
                    else f"{label(metric)} could not be computed for the groups of {fairness.column}"
                )
                findings.append(Finding(fairness.column, metric, kind, limit, Figure(*[math.nan] * 3), True, reason))
                continue
            measured = gap.difference if kind == "difference" else gap.ratio
            if kind == "ratio" and not math.isfinite(measured.value):
                findings.append(
                    Finding(
                        fairness.column,
                        metric,
                        kind,
                        limit,
                        measured,
                        True,
                        f"a ratio of {label(metric)} means nothing",
                    )
                )
                continue
            passed = measured.value <= limit if kind == "difference" else measured.value >= limit
            high, low = _figure(fairness, gap.highest, metric), _figure(fairness, gap.lowest, metric)
            spread = f"{gap.highest} {high:.3g}, {gap.lowest} {low:.3g}"
            detail = (
                f"met ({spread})"
                if passed
                else f"{label(metric)} is {low:.3g} for {gap.lowest} against {high:.3g} for {gap.highest}"
            )
            findings.append(Finding(fairness.column, metric, kind, limit, measured, passed, detail))
    return findings


def label(metric: str) -> str:
    return LABELS.get(metric, metric.replace("_", " "))


def _figure(fairness: Fairness, group: str, metric: str) -> float:
    return next(g.figures[metric].value for g in fairness.groups if g.name == group)


def _functions(design: Design, costs: CostModel) -> dict[str, Callable[..., float]]:
    """fairlearn's metric callables ``f(y_true, y_pred, score=…)``: the decision rates, the design's listed
    metrics of the first two views, and the cost per prediction."""
    from fairlearn.metrics import false_negative_rate, false_positive_rate, selection_rate

    def quiet(fn: Callable[..., float]) -> Callable[..., float]:
        return lambda y_true, y_pred, score: float(fn(y_true, y_pred))

    classification = design.task == "classification"
    out: dict[str, Callable[..., float]] = (
        {
            "selection_rate": lambda y_true, y_pred, score: float(selection_rate(y_true, y_pred, pos_label=1)),
            "false_positive_rate": quiet(lambda t, p: false_positive_rate(t, p, pos_label=1)),
            "false_negative_rate": quiet(lambda t, p: false_negative_rate(t, p, pos_label=1)),
        }
        if classification
        else {
            "mean_error": quiet(lambda t, p: np.mean(p - t)),
            "mae": quiet(lambda t, p: np.mean(np.abs(p - t))),
            "under_forecast_rate": quiet(lambda t, p: np.mean(p < t)),
            "over_forecast_rate": quiet(lambda t, p: np.mean(p > t)),
        }
    )
    for view in ("data_scientist", "domain_expert"):
        for name in design.views.get(view, []):
            if name in out or name not in catalogue.CATALOGUE:
                continue
            metric = catalogue.CATALOGUE[name]
            if design.task not in metric.tasks:
                continue
            out[name] = _catalogue(metric, costs, classification)
    out["cost_per_prediction"] = lambda y_true, y_pred, score: float(costs.money_lost(y_true, y_pred).mean())
    return out


def _catalogue(metric: catalogue.Metric, costs: CostModel, classification: bool) -> Callable[..., float]:
    def compute(y_true: np.ndarray, y_pred: np.ndarray, score: np.ndarray) -> float:
        scored = catalogue.Scored(y_true, y_pred, costs, y_score=score if classification else None)
        try:
            return float(metric(scored))
        except ValueError:  # one class only in a resample: ROC AUC is undefined
            return math.nan

    return compute


def _finite(value: Any) -> Any:
    """JSON-safe: NaN and infinities as None, tuples as lists."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


__all__ = ["Disparity", "Fairness", "Figure", "Finding", "Group", "judge", "label", "measure", "rates"]
