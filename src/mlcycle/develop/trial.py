"""One trial: a (data variant, algorithm, hyperparameters) fitted and scored by time-aware cross-validation.

The work is split so that parallel workers only fit and predict, and the parent process
owns everything stateful (Optuna, MLflow):

- :class:`Workbench` holds what every worker needs — the design, the training rows, the
  folds — and is shipped to each worker once;
- :func:`fit_folds` (in a worker) fits the trial's Pipeline on some folds and returns the
  out-of-fold predictions next to the baseline's, and, when asked, single-row latency;
- :func:`score` (in the parent) turns those predictions into the three metric views per
  fold, their mean and spread, and for classification picks the decision threshold that
  earns the most money.

Folds are expanding windows over the days of the time column (no shuffling, a day is never
split); without a time column, k-fold (stratified for classification). Each fold scores the
model and today's process on the same rows: those where the baseline has a prediction.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit
from sklearn.pipeline import Pipeline

from mlcycle.contract.spec import Design, positive_mask
from mlcycle.data.features import FeatureBuilder, builder_for
from mlcycle.design import baseline as baseline_mod
from mlcycle.design.value import cost_model, predictions_per_period
from mlcycle.develop import algorithms
from mlcycle.develop.notes import recording
from mlcycle.exceptions import DataError
from mlcycle.metrics import catalogue, decision
from mlcycle.metrics.cost import CostModel
from mlcycle.metrics.interval import Interval, resample_means

State = Literal["complete", "pruned", "failed"]
LATENCY_CALLS = 200
LATENCY_ROUNDS = 3  # measured again when a round misses the limit; the fastest stands


@dataclass(frozen=True)
class TrialSpec:
    """What one trial fits: a data variant, an algorithm and its hyperparameters."""

    number: int
    variant: str
    algorithm: str
    params: dict[str, Any]


@dataclass
class FoldPredictions:
    fold: int
    y_true: np.ndarray
    predicted: np.ndarray  # regression: the forecast; classification: probability of the positive class
    baseline: np.ndarray
    fit_seconds: float
    notes: list[str] = field(default_factory=list)  # the fit's library warnings, in mlcycle's words
    worker: str = ""  # where it was computed (set by the executor: a host and process, or a Ray node)


@dataclass
class Latency:
    p50_ms: float
    p95_ms: float
    calls: int
    rounds: int = 1  # rounds measured; the figures are the fastest round's (see :func:`measure`)


@dataclass
class TrialResult:
    spec: TrialSpec
    state: State
    folds: list[dict[str, dict[str, float]]] = field(default_factory=list)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # view → metric → fold mean
    metrics_std: dict[str, dict[str, float]] = field(default_factory=dict)  # view → metric → fold std
    baseline: dict[str, dict[str, float]] = field(default_factory=dict)  # view → metric → fold mean
    fit_seconds: float = 0.0
    latency: Latency | None = None
    threshold: float | None = None
    error: str | None = None
    run_id: str | None = None
    constraints: dict[str, float] = field(default_factory=dict)  # gate rows known at search time; ≤ 0 = met
    notes: list[str] = field(default_factory=list)  # library warnings of its fits, translated (develop.notes)
    intervals: dict[str, Interval] = field(default_factory=dict)  # net_value, improvement: over validation days
    worker: str = ""  # where its folds were fitted (on a cluster: which node), tracked as ``mlcycle.worker``

    def value(self, name: str) -> float:
        for view in self.metrics.values():
            if name in view:
                return view[name]
        return math.nan


# ── what every worker gets once ──────────────────────────────────────────────────────
@dataclass
class Workbench:
    design: Design
    frame: pd.DataFrame
    folds: list[tuple[np.ndarray, np.ndarray]]
    folder: Path
    costs: CostModel
    quantile: float | None

    @classmethod
    def create(cls, design: Design, frame: pd.DataFrame, folder: Path) -> Workbench:
        per_period, _ = (
            predictions_per_period(design, frame)
            if design.time_column
            else (design.value.predictions_per_period or float(len(frame)), False)
        )
        costs = cost_model(design, per_period)
        money_primary = catalogue.CATALOGUE.get(design.metrics.primary, None)
        trains_for_money = money_primary is not None and money_primary.view == "business"
        quantile = costs.newsvendor_quantile if trains_for_money else None
        return cls(design, frame.reset_index(drop=True), make_folds(design, frame), folder, costs, quantile)

    @property
    def context(self) -> algorithms.Context:
        return algorithms.Context(task=self.design.task, quantile=self.quantile)

    def target(self, rows: pd.DataFrame) -> np.ndarray:
        if self.design.task == "classification":
            return positive_mask(self.design, rows[self.design.target]).to_numpy(dtype=float)
        return rows[self.design.target].to_numpy(dtype=float)

    def pipeline(self, spec: TrialSpec) -> Pipeline:
        """The trial's Pipeline: features → preprocessing → estimator."""
        algorithm = algorithms.REGISTRY[spec.algorithm]
        builder: FeatureBuilder = builder_for(self.design, spec.variant, list(self.frame.columns))
        names = list(builder.get_feature_names_out())
        categorical = [
            f for f in builder.features if f in self.frame.columns and algorithms.is_categorical(self.frame[f])
        ]
        return Pipeline(
            [
                ("features", builder),
                ("prepare", algorithms.preprocessing(algorithm.family, names, categorical)),
                ("model", algorithm.estimator(spec.params, self.context)),
            ]
        )


def make_folds(design: Design, frame: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
    """Row positions of (train, validation) per fold, per the design's validation method."""
    n = design.experiments.validation.folds
    method = design.experiments.validation.method
    if method == "time_series_split":
        days = pd.to_datetime(frame[design.time_column]).dt.normalize()
        unique = np.sort(days.unique())
        if len(unique) < n + 1:
            raise DataError(
                f"the training data has {len(unique)} distinct day(s) of {design.time_column!r}, too few "
                f"for {n} time-ordered folds (experiments.validation.folds: {n} needs at least {n + 1}); "
                f"lower the folds, use more history (data.train_until), or drop time_column for kfold"
            )
        folds = []
        for train_days, valid_days in TimeSeriesSplit(n_splits=n).split(unique):
            train = np.flatnonzero(days.isin(unique[train_days]).to_numpy())
            valid = np.flatnonzero(days.isin(unique[valid_days]).to_numpy())
            folds.append((train, valid))
        return folds
    if method == "stratified_kfold":
        labels = positive_mask(design, frame[design.target]).to_numpy()
        rarer = int(min(labels.sum(), (~labels).sum()))
        if rarer < n:
            raise DataError(
                f"the rarer class of {design.target!r} has {rarer} training row(s), fewer than the {n} "
                f"folds of experiments.validation (stratified_kfold puts one in each); lower "
                f"experiments.validation.folds or bring more data"
            )
        return list(StratifiedKFold(n_splits=n, shuffle=True, random_state=0).split(frame, labels))
    if len(frame) < n:
        raise DataError(
            f"the training data has {len(frame)} row(s), too few for the {n} folds of "
            f"experiments.validation; lower experiments.validation.folds or bring more data"
        )
    return list(KFold(n_splits=n, shuffle=True, random_state=0).split(frame))


# ── in a worker ──────────────────────────────────────────────────────────────────────
def fit_folds(
    bench: Workbench, spec: TrialSpec, folds: list[int], *, measure_latency: bool = False
) -> tuple[list[FoldPredictions], Latency | None]:
    """Fit the trial on each requested fold and predict its validation rows."""
    out: list[FoldPredictions] = []
    fitted: Pipeline | None = None
    valid_rows: pd.DataFrame | None = None
    for fold in folds:
        train_idx, valid_idx = bench.folds[fold]
        train, valid = bench.frame.iloc[train_idx], bench.frame.iloc[valid_idx]
        notes: list[str] = []
        with recording(spec.algorithm, notes):
            started = time.perf_counter()
            fitted = bench.pipeline(spec)
            fitted.fit(train, bench.target(train))
            fit_seconds = time.perf_counter() - started
            predicted = predict(fitted, valid, bench.design.task)
        base = baseline_mod.predict(bench.design, train, valid)
        out.append(FoldPredictions(fold, bench.target(valid), predicted, base, fit_seconds, notes))
        valid_rows = valid
    latency = None
    if measure_latency and fitted is not None and valid_rows is not None:
        model, task = fitted, bench.design.task
        latency = measure(
            lambda one: predict(model, one, task),
            valid_rows.drop(columns=[bench.design.target]),
            limit_ms=bench.design.requirements.latency_p95_ms,
        )
    return out, latency


def predict(pipeline: Pipeline, rows: pd.DataFrame, task: str) -> np.ndarray:
    """A fitted trial's values for raw rows (see :func:`mlcycle.metrics.decision.values`)."""
    return decision.values(pipeline, rows, task)


def measure(
    predict_one: Callable[[pd.DataFrame], Any],
    rows: pd.DataFrame,
    calls: int = LATENCY_CALLS,
    *,
    limit_ms: float | None = None,
    rounds: int = LATENCY_ROUNDS,
) -> Latency:
    """Single-row latency of ``predict_one``, in-process, over ``calls`` calls (after one warm-up).

    Wall-clock time on a shared machine counts the other processes too: with the test suite's two workers
    busy, a model that answers in 12 ms measured a p95 of 793 ms. Two defences, both about waiting for the
    CPU, neither about the model's own cost:

    - a call counts the lesser of its wall-clock time and the CPU time this process spent during it. A call
      that computes on one thread spends about its wall-clock time in CPU when it has the CPU to itself, and
      no more when it has to wait for it; a call spread over several threads spends more CPU than wall clock
      time, so the wall clock stands. In-process prediction does not wait on I/O, which the CPU time would
      miss;
    - when a round misses ``limit_ms``, it is measured again, up to ``rounds`` times, and the fastest round
      stands — as ``timeit`` keeps the best of its repeats. A model slow in itself is slow in every round."""
    take = rows.iloc[np.arange(calls) % len(rows)]
    predict_one(take.iloc[[0]])
    measured: list[tuple[float, float]] = []  # (p95, p50) of each round
    while not measured or (limit_ms is not None and min(measured)[0] > limit_ms and len(measured) < rounds):
        times = []
        for i in range(calls):
            one = take.iloc[[i]]
            started, cpu = time.perf_counter(), time.process_time()
            predict_one(one)
            times.append(min(time.perf_counter() - started, time.process_time() - cpu) * 1000)
        measured.append((float(np.percentile(times, 95)), float(np.percentile(times, 50))))
    p95, p50 = min(measured)
    return Latency(p50, p95, calls, len(measured))


# ── in the parent ────────────────────────────────────────────────────────────────────
def views(design: Design, folder: Path) -> dict[str, list[catalogue.Metric]]:
    """What every fold measures: the design's views and every figure the gate judges."""
    return catalogue.measured(design, folder)


def score(
    bench: Workbench,
    spec: TrialSpec,
    predictions: list[FoldPredictions],
    metric_views: dict[str, list[catalogue.Metric]],
    *,
    threshold: float | None = None,
) -> TrialResult:
    """The three metric views per fold, their mean and spread, for the model and the baseline."""
    classification = bench.design.task == "classification"
    if classification and threshold is None:
        y = np.concatenate([p.y_true for p in predictions])
        threshold = decision.best_threshold(bench.costs, y, np.concatenate([p.predicted for p in predictions]))
    per_fold, per_fold_baseline = [], []
    for p in predictions:
        keep = ~np.isnan(p.baseline)
        y, predicted, base = p.y_true[keep], p.predicted[keep], p.baseline[keep]
        if classification:
            decided = decision.decide(predicted, threshold)
            scored = catalogue.Scored(y, decided, bench.costs, y_score=predicted, baseline_pred=base)
        else:
            scored = catalogue.Scored(y, predicted, bench.costs, baseline_pred=base)
        per_fold.append(catalogue.evaluate(scored, metric_views))
        per_fold_baseline.append(catalogue.evaluate(catalogue.Scored(y, base, bench.costs), metric_views))
    result = TrialResult(
        spec,
        "complete",
        folds=per_fold,
        threshold=threshold,
        fit_seconds=float(sum(p.fit_seconds for p in predictions)),
        notes=list(dict.fromkeys(note for p in predictions for note in p.notes)),
        worker=", ".join(dict.fromkeys(p.worker for p in predictions if p.worker)),
    )
    result.metrics = _aggregate(per_fold, np.nanmean)
    result.metrics_std = _aggregate(per_fold, np.nanstd)
    result.baseline = _aggregate(per_fold_baseline, np.nanmean)
    result.intervals = money_intervals(bench, predictions, threshold, result)
    return result


def money_intervals(
    bench: Workbench, predictions: list[FoldPredictions], threshold: float | None, result: TrialResult
) -> dict[str, Interval]:
    """Intervals on the validated money: added value per period and the cut in money lost against today's process.

    A bootstrap over the validation days of every fold (rows without a time column): the model's and
    the baseline's money lost per row are resampled together, so the intervals keep their pairing.
    The pooled figure of a resample is moved by the gap between the folds' mean (the figure shown) and
    the pooled one, so each interval is around the figure it qualifies.
    """
    costs = bench.costs
    lost, base_lost, days = [], [], []
    for p in predictions:
        keep = ~np.isnan(p.baseline)
        decided = decision.decide(p.predicted[keep], threshold) if threshold is not None else p.predicted[keep]
        lost.append(costs.money_lost(p.y_true[keep], decided))
        base_lost.append(costs.money_lost(p.y_true[keep], p.baseline[keep]))
        if bench.design.time_column:
            rows = bench.frame.iloc[bench.folds[p.fold][1]][bench.design.time_column].to_numpy()
            days.append(rows[keep])
    if not lost:
        return {}
    resampled = resample_means(
        np.column_stack([np.concatenate(lost), np.concatenate(base_lost)]),
        np.concatenate(days) if days else None,
    )
    if resampled is None:
        return {}
    model, base = resampled.means[:, 0], resampled.means[:, 1]
    pooled_model, pooled_base = float(np.concatenate(lost).mean()), float(np.concatenate(base_lost).mean())
    per_period, running = costs.per_period(1.0), costs.running_cost_per_period
    out = {}
    shown = result.value("net_value")
    if math.isfinite(shown):
        pooled = per_period * (pooled_base - pooled_model) - running
        out["net_value"] = resampled.interval(per_period * (base - model) - running + (shown - pooled))
    shown_lost = result.value("money_lost")
    shown_base = next((v["money_lost"] for v in result.baseline.values() if "money_lost" in v), math.nan)
    if math.isfinite(shown_lost) and math.isfinite(shown_base) and shown_base > 0 and pooled_base > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            cut = 1 - model / base
        out["improvement"] = resampled.interval(
            cut + ((1 - shown_lost / shown_base) - (1 - pooled_model / pooled_base))
        )
    return out


def _aggregate(per_fold: list[dict[str, dict[str, float]]], how: Any) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for view, metrics in per_fold[0].items():
        out[view] = {}
        for name in metrics:
            values = np.array([fold[view][name] for fold in per_fold], dtype=float)
            out[view][name] = float(how(values)) if not np.isnan(values).all() else math.nan
    return out
