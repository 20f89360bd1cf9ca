"""The three metric views as one catalogue.

Every metric is computed from the same :class:`Scored` predictions, so validation, the
leaderboard and monitoring can never disagree about what a number means.

- *data scientist*: accuracy of the predictions themselves;
- *domain expert*: what the predictions do to the operation (stockouts, alarms …);
- *business*: money, from the design's cost model.

Each metric knows its view, the tasks it fits and its direction: ``lower`` or ``higher``
is better, or ``zero`` (a signed bias: closest to zero is best; gates compare its
absolute value). Users add domain metrics as ``metrics.py:function`` in the use-case folder.

Zero actuals and MAPE: a percentage error of a zero actual is undefined, so ``mape`` is the
mean of ``|y − ŷ| / |y|`` over the rows whose actual is not zero; rows with a zero actual
are left out (they still count in every other metric). When every actual is zero it is NaN.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sklearn import metrics as skm

from mlcycle.contract.spec import is_user_metric
from mlcycle.contract.vocabulary import Direction, MetricTerm, View, tell, tell_user_metric_check, vocabulary
from mlcycle.exceptions import DesignError, UsageError
from mlcycle.metrics.cost import CostModel

if TYPE_CHECKING:
    from mlcycle.contract.spec import Design

REGRESSION = frozenset({"regression"})
CLASSIFICATION = frozenset({"classification"})
BOTH = REGRESSION | CLASSIFICATION

VIEW_READERS: dict[str, str] = {
    "data_scientist": "Data scientist — is the model accurate?",
    "domain_expert": "Domain expert — what does it do to the operation?",
    "business": "Business stakeholder — what is it worth in money?",
}


@dataclass(frozen=True)
class Scored:
    """One set of predictions with everything a metric may need.

    For classification ``y_true`` and ``y_pred`` are 0/1 (1 = the design's positive class)
    and ``y_score`` is the probability of the positive class when the model has one.
    ``baseline_pred`` are today's process's predictions on the same rows; ``net_value``
    needs them. ``days`` (optional) say which rows move together, for intervals
    (:mod:`mlcycle.metrics.interval`).
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    cost: CostModel
    y_score: np.ndarray | None = None
    baseline_pred: np.ndarray | None = None
    days: np.ndarray | None = None  # each row's day, when the design has a time column: intervals resample days

    def __post_init__(self) -> None:
        object.__setattr__(self, "y_true", np.asarray(self.y_true, dtype=float))
        object.__setattr__(self, "y_pred", np.asarray(self.y_pred, dtype=float))
        if self.y_score is not None:
            object.__setattr__(self, "y_score", np.asarray(self.y_score, dtype=float))
        if self.baseline_pred is not None:
            object.__setattr__(self, "baseline_pred", np.asarray(self.baseline_pred, dtype=float))
        if len(self.y_true) != len(self.y_pred):
            raise UsageError(f"{len(self.y_true)} actuals but {len(self.y_pred)} predictions")

    @property
    def score(self) -> np.ndarray:
        """Ranking score: the probability when there is one, else the hard decision."""
        return self.y_score if self.y_score is not None else self.y_pred


@dataclass(frozen=True)
class Metric:
    name: str
    view: View
    tasks: frozenset[str]
    direction: Direction
    fn: Callable[[Scored], float] = field(repr=False)
    label: str = ""
    unit: str = ""

    def __call__(self, scored: Scored) -> float:
        if len(scored.y_true) == 0:
            return math.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(self.fn(scored))

    def loss(self, value: float) -> float:
        """The value turned into "lower is better", for ranking and optimisation."""
        if self.direction == "higher":
            return -value
        if self.direction == "zero":
            return abs(value)
        return value

    def is_better(self, a: float, b: float) -> bool:
        return self.loss(a) < self.loss(b)


def _mape(s: Scored) -> float:
    nonzero = s.y_true != 0
    if not nonzero.any():
        return math.nan
    return float(np.mean(np.abs(s.y_true[nonzero] - s.y_pred[nonzero]) / np.abs(s.y_true[nonzero])))


def _service_level(s: Scored) -> float:
    """Fill rate: the share of demand an order of ŷ units would have met."""
    demand = s.y_true.sum()
    return math.nan if demand <= 0 else float(np.minimum(s.y_true, np.maximum(s.y_pred, 0)).sum() / demand)


def _forecast_bias(s: Scored) -> float:
    demand = s.y_true.sum()
    return math.nan if demand == 0 else float((s.y_pred.sum() - demand) / demand)


def _roc_auc(s: Scored) -> float:
    if len(np.unique(s.y_true)) < 2:
        return math.nan
    return skm.roc_auc_score(s.y_true, s.score)


def _log_loss(s: Scored) -> float:
    return skm.log_loss(s.y_true, np.clip(s.score, 1e-15, 1 - 1e-15), labels=[0, 1])


def _rate(numerator_mask: np.ndarray, denominator_mask: np.ndarray) -> float:
    n = int(denominator_mask.sum())
    return math.nan if n == 0 else float((numerator_mask & denominator_mask).sum() / n)


def _precision_at_k(s: Scored) -> float:
    """Precision among the 10 % of cases the model is most sure of — the ones a team checks first."""
    k = max(1, math.ceil(0.1 * len(s.y_true)))
    top = np.argsort(-s.score, kind="stable")[:k]
    return float(s.y_true[top].mean())


def _money_lost(s: Scored) -> float:
    return s.cost.per_period(s.cost.money_lost(s.y_true, s.y_pred).mean())


def _net_value(s: Scored) -> float:
    """Added value per period against today's process, after the model's running cost."""
    if s.baseline_pred is None:
        return math.nan
    saved = s.cost.money_lost(s.y_true, s.baseline_pred).mean() - s.cost.money_lost(s.y_true, s.y_pred).mean()
    return s.cost.per_period(saved) - s.cost.running_cost_per_period


def _binary(fn: Callable[..., float]) -> Callable[[Scored], float]:
    return lambda s: fn(s.y_true, s.y_pred, zero_division=0)


_BUILTIN = [
    # data scientist — regression
    Metric(
        "mae",
        "data_scientist",
        REGRESSION,
        "lower",
        lambda s: skm.mean_absolute_error(s.y_true, s.y_pred),
        "mean absolute error",
        "units",
    ),
    Metric(
        "rmse",
        "data_scientist",
        REGRESSION,
        "lower",
        lambda s: skm.root_mean_squared_error(s.y_true, s.y_pred),
        "root mean squared error",
        "units",
    ),
    Metric(
        "mape",
        "data_scientist",
        REGRESSION,
        "lower",
        _mape,
        "mean absolute percentage error (non-zero actuals)",
    ),
    Metric(
        "r2",
        "data_scientist",
        REGRESSION,
        "higher",
        lambda s: skm.r2_score(s.y_true, s.y_pred) if len(s.y_true) > 1 else math.nan,
        "R²",
    ),
    Metric(
        "bias",
        "data_scientist",
        REGRESSION,
        "zero",
        lambda s: float(np.mean(s.y_pred - s.y_true)),
        "mean error (forecast − actual)",
        "units",
    ),
    # data scientist — classification
    Metric(
        "accuracy",
        "data_scientist",
        CLASSIFICATION,
        "higher",
        lambda s: skm.accuracy_score(s.y_true, s.y_pred),
        "accuracy",
    ),
    Metric("precision", "data_scientist", CLASSIFICATION, "higher", _binary(skm.precision_score), "precision"),
    Metric("recall", "data_scientist", CLASSIFICATION, "higher", _binary(skm.recall_score), "recall"),
    Metric("f1", "data_scientist", CLASSIFICATION, "higher", _binary(skm.f1_score), "F1"),
    Metric("roc_auc", "data_scientist", CLASSIFICATION, "higher", _roc_auc, "ROC AUC"),
    Metric("log_loss", "data_scientist", CLASSIFICATION, "lower", _log_loss, "log loss"),
    # domain expert — regression, any quantity (the default view: it reads the same for rentals, load, doses)
    Metric(
        "under_prediction_rate",
        "domain_expert",
        REGRESSION,
        "lower",
        lambda s: float(np.mean(s.y_true > s.y_pred)),
        "share of predictions below what happened",
    ),
    Metric(
        "within_10_percent",
        "domain_expert",
        REGRESSION,
        "higher",
        lambda s: float(np.mean(np.abs(s.y_pred - s.y_true) <= 0.1 * np.abs(s.y_true))),
        "share of predictions within 10 % of what happened",
    ),
    # domain expert — regression as a forecast of demand (what is ordered): a retail design lists these
    Metric(
        "stockout_rate",
        "domain_expert",
        REGRESSION,
        "lower",
        lambda s: float(np.mean(s.y_true > s.y_pred)),
        "share of days demand exceeds the order",
    ),
    Metric(
        "overstock_units",
        "domain_expert",
        REGRESSION,
        "lower",
        lambda s: float(np.mean(np.maximum(s.y_pred - s.y_true, 0))),
        "units ordered but not sold, per prediction",
        "units",
    ),
    Metric(
        "service_level",
        "domain_expert",
        REGRESSION,
        "higher",
        _service_level,
        "share of demand met (fill rate)",
    ),
    Metric(
        "forecast_bias",
        "domain_expert",
        REGRESSION,
        "zero",
        _forecast_bias,
        "total forecast vs total demand, relative",
    ),
    # domain expert — classification
    Metric(
        "false_alarm_rate",
        "domain_expert",
        CLASSIFICATION,
        "lower",
        lambda s: _rate(s.y_pred == 1, s.y_true == 0),
        "share of negatives flagged",
    ),
    Metric(
        "miss_rate",
        "domain_expert",
        CLASSIFICATION,
        "lower",
        lambda s: _rate(s.y_pred == 0, s.y_true == 1),
        "share of positives missed",
    ),
    Metric(
        "precision_at_k",
        "domain_expert",
        CLASSIFICATION,
        "higher",
        _precision_at_k,
        "precision among the top 10 % scored",
    ),
    # business
    Metric("money_lost", "business", BOTH, "lower", _money_lost, "money lost per period", "money"),
    Metric(
        "net_value",
        "business",
        BOTH,
        "higher",
        _net_value,
        "added value per period vs today's process",
        "money",
    ),
]

CATALOGUE: dict[str, Metric] = {m.name: m for m in _BUILTIN}


def names(view: View, task: str) -> list[str]:
    """Built-in metric names of one view that fit a task, in catalogue order (as the contract was told them)."""
    return vocabulary().metric_names(task, view)


def load_user_metric(reference: str, folder: Path) -> Metric:
    """Load ``file.py:function`` from the use-case folder as a domain-expert metric.

    The function takes ``(y_true, y_pred)`` numpy arrays and returns a float; lower is
    better unless it has an attribute ``greater_is_better = True`` (as scikit-learn's scorers).
    Raises DesignError with a message fit to show the user.
    """
    file_part, _, func_name = reference.partition(":")
    path = (folder / file_part).resolve()
    if not file_part.endswith(".py") or not func_name:
        raise DesignError(f"a user metric is written 'file.py:function'. Got {reference!r}")
    if not path.is_file():
        raise DesignError(f"{file_part} does not exist in the use-case folder {folder}")
    spec = importlib.util.spec_from_file_location(f"mlcycle_user_metrics_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's file: any error is theirs to see
        raise DesignError(f"{file_part} failed to import: {type(exc).__name__}: {exc}") from exc
    fn = getattr(module, func_name, None)
    if not callable(fn):
        available = [n for n, v in vars(module).items() if inspect.isfunction(v) and not n.startswith("_")]
        raise DesignError(
            f"{file_part} has no function {func_name!r}; functions there: {', '.join(available) or 'none'}"
        )
    direction: Direction = "higher" if getattr(fn, "greater_is_better", False) else "lower"
    return Metric(
        reference, "domain_expert", BOTH, direction, lambda s: fn(s.y_true, s.y_pred), fn.__doc__ or reference
    )


def _user_metric_problem(reference: str, folder: Path) -> str | None:
    try:
        load_user_metric(reference, folder)
    except DesignError as exc:
        return exc.problems[0].message
    return None


for _metric in _BUILTIN:
    tell(MetricTerm(_metric.name, _metric.view, _metric.tasks, _metric.direction))
tell_user_metric_check(_user_metric_problem)


def resolve(name: str, folder: Path | None = None) -> Metric:
    """The metric called ``name``: built-in, or a user function in ``folder``."""
    if is_user_metric(name):
        if folder is None:
            raise DesignError(f"user metric {name!r} needs the use-case folder to load from")
        return load_user_metric(name, folder)
    try:
        return CATALOGUE[name]
    except KeyError:
        raise DesignError(f"unknown metric {name!r}; known: {', '.join(CATALOGUE)}") from None


# Figures the promotion gate and the review judge on every use case, listed or not.
JUDGED = ("money_lost", "net_value")


def measured(design: Design, folder: Path | None = None) -> dict[str, list[Metric]]:
    """The design's three views plus every metric something judges: the gate's money figures,
    the primary metric, the quality requirement and the monitoring rule.

    ``metrics:`` says what the design wants to *see*; a gate or an alert must still compute
    every figure it judges, or it would judge NaN. The extras join their own view, after the
    listed ones, so tables that show the listed metrics are unchanged.
    """
    names = {view: list(listed) for view, listed in design.views.items()}
    wanted = [*JUDGED, design.metrics.primary]
    if design.requirements.quality is not None:
        wanted.append(design.requirements.quality.metric)
    if design.monitoring.performance is not None:
        wanted.append(design.monitoring.performance.metric)
    for name in wanted:
        if not any(name in listed for listed in names.values()):
            names[resolve(name, folder).view].append(name)
    return {view: [resolve(name, folder) for name in listed] for view, listed in names.items()}


def evaluate(scored: Scored, views: dict[str, list[Metric]]) -> dict[str, dict[str, float]]:
    """All requested metrics of every view on the same predictions."""
    return {view: {m.name: m(scored) for m in metrics} for view, metrics in views.items()}
