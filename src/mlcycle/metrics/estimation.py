"""Performance and money estimated before the actuals arrive — NannyML's CBPE and DLE, carried through to money.

A credit default is known months later, a shop's sales a day later. Until then monitoring can
still say what the model is probably earning, from the predictions alone:

- **classification — confidence-based estimation (CBPE).** A calibrated probability p says how
  often a row is positive. Drawing each row's actual from Bernoulli(p) many times gives the
  distribution of every figure the design reads — the confusion matrix, precision, recall, ROC AUC,
  and the money of the payoff matrix for the model's decisions and for today's process's — whose
  mean is the estimate and whose spread is its sampling error. The probabilities are calibrated on
  the reference (the promoted trial's out-of-fold predictions) by isotonic regression when they
  are not calibrated already (expected calibration error above ``CALIBRATED_ECE``); the estimate
  says which.
- **regression — direct loss estimation (DLE).** LightGBM models fitted on the reference (inputs
  and the prediction) predict each row's expected *undershoot* max(y − ŷ, 0) and *overshoot*
  max(ŷ − y, 0) — the two halves of the design's asymmetric cost — for the model and, from its own
  prediction, for today's process. MAE = undershoot + overshoot; money lost = under · undershoot +
  over · overshoot; added value = today's loss − the model's − running cost. Each figure is corrected
  by, and its interval comes from, the estimator's own errors on reference windows of the same size,
  measured out of fold.

Both rest on two assumptions, stated with every estimate: **no concept shift** (the relation
between inputs and actual is the reference's; drift of the inputs alone is fine), and inputs
**within the reference's support** (monitoring measures the share of rows outside it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from mlcycle.data.reference import Profile
from mlcycle.metrics import catalogue
from mlcycle.metrics.cost import CostModel
from mlcycle.metrics.interval import LEVEL, Interval

DRAWS = 200  # Bernoulli draws of the actuals per window: the estimate's sampling error to about 1 %
CALIBRATED_ECE = 0.02  # probabilities closer than this to the observed rates are used as they are
CHUNK_ROWS = 500  # reference window size for DLE's interval when the design's window size is unknown
MIN_CHUNKS = 10
ASSUMPTIONS = (
    "no concept shift: the relation between inputs and actual is still the reference's",
    "inputs within the reference's support (the share outside it is shown)",
)


@dataclass(frozen=True)
class Estimate:
    """A window's figures estimated without actuals: ``figures`` by metric name, each with its interval."""

    figures: dict[str, float]
    intervals: dict[str, Interval]
    rows: int
    method: str
    assumptions: tuple[str, ...] = ASSUMPTIONS

    def to_dict(self) -> dict[str, Any]:
        return {
            "figures": {k: _finite(v) for k, v in self.figures.items()},
            "intervals": {k: i.to_dict() for k, i in self.intervals.items()},
            "rows": self.rows,
            "method": self.method,
            "assumptions": list(self.assumptions),
        }


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


# ── the inputs as numbers ─────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Encoder:
    """Raw input columns as a numeric matrix for the loss models: numbers as they are, categories as codes of
    the reference's categories (unseen → missing), dates as month and weekday."""

    numeric: list[str]
    categorical: dict[str, list[str]]
    dates: list[str]

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> Encoder:
        numeric, categorical, dates = [], {}, []
        for name in frame.columns:
            series = frame[name]
            if pd.api.types.is_datetime64_any_dtype(series):
                dates.append(str(name))
            elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
                numeric.append(str(name))
            else:
                top = series.astype("string").value_counts().head(200).index
                categorical[str(name)] = [str(c) for c in top]
        return cls(numeric, categorical, dates)

    def transform(self, frame: pd.DataFrame, extra: dict[str, np.ndarray]) -> np.ndarray:
        columns = []
        for name in self.numeric:
            columns.append(_numbers(frame, name))
        for name, categories in self.categorical.items():
            codes = {c: i for i, c in enumerate(categories)}
            text = frame[name].astype("string") if name in frame else pd.Series(pd.NA, index=frame.index)
            columns.append(text.map(codes).to_numpy(dtype=float, na_value=np.nan))
        for name in self.dates:
            when = (
                pd.to_datetime(frame[name], errors="coerce") if name in frame else pd.Series(pd.NaT, index=frame.index)
            )
            columns += [
                when.dt.month.to_numpy(dtype=float, na_value=np.nan),
                when.dt.dayofweek.to_numpy(dtype=float, na_value=np.nan),
            ]
        columns += [np.asarray(v, dtype=float) for v in extra.values()]
        return np.column_stack(columns) if columns else np.zeros((len(frame), 0))

    @property
    def categorical_positions(self) -> list[int]:
        start = len(self.numeric)
        return list(range(start, start + len(self.categorical)))


def _numbers(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


# ── the estimator ─────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Estimator:
    """Fitted on the reference at promotion, applied to a monitoring window. JSON in, JSON out.

    ``kind``: "cbpe" (classification: ``calibration`` maps scores to probabilities) or "dle"
    (regression: ``boosters`` predict under- and overshoot of the model and of today's process).
    ``chunk_errors``: estimated − realised per reference window of ``chunk_rows`` rows, per figure, measured
    out of fold — the intervals come from them (for CBPE, when wider than the draws' own spread).
    """

    kind: str
    threshold: float | None = None
    calibration: dict[str, list[float]] | None = None  # isotonic breakpoints: x (score) → y (probability)
    calibrated_by: str = ""
    ece: dict[str, float] = field(default_factory=dict)  # expected calibration error before / after
    encoder: Encoder | None = None
    boosters: dict[str, str] = field(default_factory=dict)  # LightGBM models as text
    chunk_rows: int = CHUNK_ROWS
    chunk_errors: dict[str, list[float]] = field(default_factory=dict)
    reference_rows: int = 0
    loss_level: float = 0.0  # mean estimated money lost per row on the reference (model, plus baseline when known)
    row_errors: dict[str, list[float]] = field(default_factory=dict)  # per figure: mean, sd, rows — short references

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["encoder"] = asdict(self.encoder) if self.encoder else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Estimator:
        encoder = Encoder(**data["encoder"]) if data.get("encoder") else None
        return cls(**{**data, "encoder": encoder})

    @property
    def method(self) -> str:
        if self.kind == "cbpe":
            return (
                f"confidence-based estimation (CBPE): {DRAWS} draws of the actuals from {self.calibrated_by}; "
                "the interval is their sampling spread"
            )
        return (
            f"direct loss estimation (DLE): LightGBM under- and overshoot models fitted on {self.reference_rows:,} "
            f"out-of-fold reference rows; the interval from the estimator's errors on reference windows of "
            f"{self.chunk_rows:,} rows"
        )

    # ── classification ──
    def probability(self, scores: np.ndarray) -> np.ndarray:
        scores = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
        if not self.calibration:
            return scores
        return np.interp(scores, self.calibration["x"], self.calibration["y"])

    # ── applying ──
    def estimate(
        self,
        *,
        inputs: pd.DataFrame,
        prediction: np.ndarray,
        baseline: np.ndarray,
        costs: CostModel,
        views: dict[str, list[catalogue.Metric]],
        decided: np.ndarray | None = None,
        seed: int = 0,
    ) -> Estimate | None:
        """The window's figures from its inputs, predictions (probabilities for a classifier; ``decided``: its
        0/1 decisions) and today's process's predictions (NaN where it has none). None on no rows."""
        if len(prediction) == 0:
            return None
        if self.kind == "cbpe":
            return self._cbpe(prediction, decided, baseline, costs, views, seed)
        return self._dle(inputs, prediction, baseline, costs)

    def _cbpe(
        self,
        scores: np.ndarray,
        decided: np.ndarray | None,
        baseline: np.ndarray,
        costs: CostModel,
        views: dict[str, list[catalogue.Metric]],
        seed: int,
    ) -> Estimate:
        has_baseline = not np.isnan(baseline).all()
        keep = ~np.isnan(baseline) if has_baseline else np.ones(len(scores), dtype=bool)
        scores = np.asarray(scores, dtype=float)[keep]
        decisions = (scores >= (self.threshold or 0.5)).astype(float) if decided is None else decided[keep]
        probability = self.probability(scores)
        rng = np.random.default_rng(seed)
        draws = (rng.random((DRAWS, len(scores))) < probability).astype(float)  # each row: one possible world
        drawn = _confusion_figures(draws, decisions, scores, costs, baseline[keep] if has_baseline else None)
        wanted = {m.name: m for metrics in views.values() for m in metrics}
        others = [m for name, m in wanted.items() if name not in drawn]
        for i in range(min(DRAWS, 50) if others else 0):  # a figure of the user's own: the catalogue, per draw
            scored = catalogue.Scored(
                draws[i], decisions, costs, y_score=scores, baseline_pred=baseline[keep] if has_baseline else None
            )
            for metric in others:
                drawn.setdefault(metric.name, np.full(min(DRAWS, 50), np.nan))[i] = metric(scored)
        figures, intervals = {}, {}
        tail = (1 - LEVEL) / 2
        for name, values in drawn.items():
            if name not in wanted and name != "baseline_money_lost":
                continue
            finite = values[np.isfinite(values)]
            if len(finite) == 0:
                continue
            figures[name] = float(finite.mean())
            low, high = np.quantile(finite, [tail, 1 - tail])
            intervals[name] = Interval(float(low), float(high), LEVEL, f"{len(finite)} draws of the actuals")
            measured = self._from_errors(name, figures[name], int(keep.sum()))
            if measured is not None:  # the wider of the two: sampling alone, or the estimator's measured errors
                intervals[name] = Interval(
                    min(float(low), measured.low),
                    max(float(high), measured.high),
                    LEVEL,
                    f"{len(finite)} draws of the actuals, widened to {measured.method}",
                )
        return Estimate(figures, intervals, int(keep.sum()), self.method)

    def _from_errors(self, name: str, value: float, rows: int, level: float = 1.0) -> Interval | None:
        """The estimate less the reference windows' mean error, ± a Student t quantile of their spread (few windows:
        wider), scaled to the window's rows (errors shrink as 1/√rows) and, for money, to its level of loss.

        A reference too short for ten windows falls back to its rows: their errors' mean and spread, read as the
        sampling error of a window's mean (this ignores how rows of a day move together, and says so)."""
        errors = self.chunk_errors.get(name)
        if not errors or len(errors) < MIN_CHUNKS:
            by_row = self.row_errors.get(name)
            if not by_row or by_row[2] < 30:
                return None
            mean, spread, count = by_row
            half = float(student_t.ppf(0.5 + LEVEL / 2, count - 1) * spread / math.sqrt(max(rows, 1)) * level)
            method = f"the estimator's errors on {int(count):,} reference rows, as the sampling error of a mean"
            return Interval(value - mean - half, value - mean + half, LEVEL, method)
        found = np.asarray(errors, dtype=float)
        scale = math.sqrt(self.chunk_rows / max(rows, 1)) * level
        half = float(student_t.ppf(0.5 + LEVEL / 2, len(found) - 1) * found.std(ddof=1) * scale)
        centre = value - float(found.mean())
        method = f"the estimator's errors on {len(found)} reference windows of {self.chunk_rows:,} rows"
        return Interval(centre - half, centre + half, LEVEL, method)

    def _dle(self, inputs: pd.DataFrame, prediction: np.ndarray, baseline: np.ndarray, costs: CostModel) -> Estimate:
        assert self.encoder is not None
        under, over = self._losses("model", inputs, prediction)
        lost = costs.shortfall_cost(under, over)
        figures = {"mae": float(np.mean(under + over)), "money_lost": costs.per_period(float(lost.mean()))}
        level = float(lost.mean())
        has_baseline = ~np.isnan(baseline)
        rows = len(prediction)
        if has_baseline.any() and "baseline_under" in self.boosters:
            b_under, b_over = self._losses("baseline", inputs[has_baseline], baseline[has_baseline])
            base_lost = costs.shortfall_cost(b_under, b_over)
            per_row = float(base_lost.mean() - lost[has_baseline].mean())
            level = float(base_lost.mean() + lost[has_baseline].mean())
            figures["baseline_money_lost"] = costs.per_period(float(base_lost.mean()))
            figures["net_value"] = costs.per_period(per_row) - costs.running_cost_per_period
            figures["money_lost"] = costs.per_period(float(lost[has_baseline].mean()))
            figures["mae"] = float(np.mean((under + over)[has_baseline]))
            rows = int(has_baseline.sum())
        # a window that loses more money varies more, in proportion
        ratio = level / self.loss_level if self.loss_level > 0 and level > 0 else 1.0
        intervals = {
            name: interval
            for name, value in figures.items()
            if (interval := self._from_errors(name, value, rows, ratio)) is not None
        }
        # each figure less the estimator's mean error on the reference's windows: the interval's centre
        figures |= {name: (interval.low + interval.high) / 2 for name, interval in intervals.items()}
        return Estimate(figures, intervals, rows, self.method)

    def _losses(self, who: str, inputs: pd.DataFrame, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import lightgbm as lgb

        assert self.encoder is not None
        matrix = self.encoder.transform(inputs.reset_index(drop=True), {"prediction": predicted})
        out = []
        for half in ("under", "over"):
            booster = lgb.Booster(model_str=self.boosters[f"{who}_{half}"])
            out.append(np.maximum(booster.predict(matrix), 0.0))
        return out[0], out[1]


def _confusion_figures(
    draws: np.ndarray, decided: np.ndarray, scores: np.ndarray, costs: CostModel, baseline: np.ndarray | None
) -> dict[str, np.ndarray]:
    """The catalogue's classification figures for every draw at once (draws: draws × rows of 0/1 actuals).

    Counts of the confusion matrix are matrix products; ROC AUC is the rank-sum of the positives (the
    scores, hence their ranks, are the same in every draw); money is each row's loss if positive or negative.
    """
    from scipy.stats import rankdata

    n = draws.shape[1]
    positives = draws.sum(axis=1)
    tp = draws @ decided
    fp = decided.sum() - tp
    fn = positives - tp
    tn = n - tp - fp - fn
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "accuracy": (tp + tn) / n,
            "precision": np.where(tp + fp > 0, tp / (tp + fp), 0.0),
            "recall": np.where(positives > 0, tp / positives, 0.0),
            "f1": np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0),
            "miss_rate": np.where(positives > 0, fn / positives, np.nan),
            "false_alarm_rate": np.where(n - positives > 0, fp / (n - positives), np.nan),
            "roc_auc": np.where(
                (positives > 0) & (positives < n),
                (draws @ rankdata(scores) - positives * (positives + 1) / 2) / (positives * (n - positives)),
                np.nan,
            ),
        }
        clipped = np.clip(scores, 1e-15, 1 - 1e-15)
        out["log_loss"] = -(draws @ np.log(clipped) + (1 - draws) @ np.log(1 - clipped)) / n
        top = np.argsort(-scores, kind="stable")[: max(1, math.ceil(0.1 * n))]
        out["precision_at_k"] = draws[:, top].mean(axis=1)
    ones, zeros = np.ones(n), np.zeros(n)

    def lost(decision: np.ndarray) -> np.ndarray:
        if_positive, if_negative = costs.money_lost(ones, decision), costs.money_lost(zeros, decision)
        return (draws @ if_positive + (1 - draws) @ if_negative) / n

    model = lost(decided)
    out["money_lost"] = model * costs.predictions_per_period
    if baseline is not None:
        base = lost(baseline)
        out["baseline_money_lost"] = base * costs.predictions_per_period
        out["net_value"] = (base - model) * costs.predictions_per_period - costs.running_cost_per_period
    return out


# ── fitting, at promotion ─────────────────────────────────────────────────────────────
def fit(
    task: str,
    *,
    inputs: pd.DataFrame,
    prediction: np.ndarray,
    actual: np.ndarray,
    baseline: np.ndarray,
    costs: CostModel,
    threshold: float | None = None,
    order: np.ndarray | None = None,
    chunk_rows: int | None = None,
    seed: int = 0,
) -> Estimator:
    """The estimator for a model, from its out-of-fold predictions on the reference.

    ``actual``: 0/1 for classification; ``baseline``: today's process on the same rows (NaN where it has
    none); ``order``: the rows' positions in time (windows of the reference are then consecutive), else
    they are shuffled; ``chunk_rows``: rows in one monitoring window of the reference.
    """
    prediction, actual = np.asarray(prediction, dtype=float), np.asarray(actual, dtype=float)
    if task == "classification":
        positions = order if order is not None else np.random.default_rng(seed).permutation(len(actual))
        return _fit_cbpe(prediction, actual, np.asarray(baseline, dtype=float), costs, threshold, positions, chunk_rows)
    return _fit_dle(inputs.reset_index(drop=True), prediction, actual, baseline, costs, order, chunk_rows, seed)


def expected_calibration_error(probability: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """Mean gap between predicted and observed positive rates over equal-count bins, weighted by rows."""
    order = np.argsort(probability, kind="stable")
    gaps = [
        abs(probability[part].mean() - actual[part].mean()) * len(part)
        for part in np.array_split(order, min(bins, len(order)))
        if len(part)
    ]
    return float(sum(gaps) / len(probability)) if len(probability) else math.nan


def _fit_cbpe(
    scores: np.ndarray,
    actual: np.ndarray,
    baseline: np.ndarray,
    costs: CostModel,
    threshold: float | None,
    positions: np.ndarray,
    chunk_rows: int | None,
) -> Estimator:
    from sklearn.isotonic import IsotonicRegression

    scores = np.clip(scores, 0.0, 1.0)
    before = expected_calibration_error(scores, actual)
    # cross-fitted: each half calibrated by the other — the estimator's error is then measured honestly
    halves = np.arange(len(scores)) % 2 == 0
    crossed = np.empty_like(scores)
    for part in (halves, ~halves):
        model = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores[~part], actual[~part])
        crossed[part] = model.predict(scores[part])
    after = expected_calibration_error(crossed, actual)
    if before <= CALIBRATED_ECE:
        calibration, crossed, after = None, scores, before
        how = f"the model's own probabilities (calibrated already: expected calibration error {before:.3f})"
    else:
        model = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, actual)
        calibration = {"x": [float(x) for x in model.X_thresholds_], "y": [float(y) for y in model.y_thresholds_]}
        how = (
            f"probabilities calibrated on {len(scores):,} out-of-fold reference rows by isotonic regression "
            f"(expected calibration error {before:.3f} → {after:.3f})"
        )
    decided = (scores >= (threshold if threshold is not None else 0.5)).astype(float)
    size = chunk_rows or CHUNK_ROWS
    if len(scores) // size < MIN_CHUNKS:
        size = max(len(scores) // (MIN_CHUNKS * 2), 20)
    errors: dict[str, list[float]] = {}
    rng = np.random.default_rng(0)
    for start in range(0, len(positions) - size + 1, size):
        rows = positions[start : start + size]
        base = baseline[rows] if not np.isnan(baseline[rows]).any() else None
        draws = (rng.random((DRAWS, len(rows))) < crossed[rows]).astype(float)
        estimated = _confusion_figures(draws, decided[rows], scores[rows], costs, base)
        truth = _confusion_figures(actual[rows][None, :], decided[rows], scores[rows], costs, base)
        for name, values in estimated.items():
            value, real = float(np.nanmean(values)), float(truth[name][0])
            if np.isfinite(value) and np.isfinite(real):
                errors.setdefault(name, []).append(value - real)
    return Estimator(
        "cbpe",
        threshold,
        calibration,
        how,
        {"before": before, "after": after},
        chunk_rows=size,
        chunk_errors=errors,
        reference_rows=len(scores),
    )


LOSS_PARAMS = {
    "objective": "regression",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "verbose": -1,
    "num_threads": 1,
    "seed": 0,
    "deterministic": True,
}
ROUNDS = 100


def _train(matrix: np.ndarray, target: np.ndarray, categorical: list[int]) -> Any:
    import lightgbm as lgb

    data = lgb.Dataset(matrix, target, categorical_feature=categorical or "auto", free_raw_data=False)
    return lgb.train(LOSS_PARAMS, data, num_boost_round=ROUNDS)


def _fit_dle(
    inputs: pd.DataFrame,
    prediction: np.ndarray,
    actual: np.ndarray,
    baseline: np.ndarray,
    costs: CostModel,
    order: np.ndarray | None,
    chunk_rows: int | None,
    seed: int,
) -> Estimator:
    encoder = Encoder.fit(inputs)
    categorical = encoder.categorical_positions
    who = {"model": (prediction, np.ones(len(actual), dtype=bool))}
    has_baseline = ~np.isnan(baseline)
    if has_baseline.sum() >= 50:
        who["baseline"] = (baseline, has_baseline)
    boosters: dict[str, str] = {}
    crossed: dict[str, np.ndarray] = {}  # out-of-fold loss estimates on the reference, for the interval
    fold = np.arange(len(actual)) % 3
    for name, (predicted, rows) in who.items():
        matrix = encoder.transform(inputs, {"prediction": predicted})
        for half, target in (
            ("under", np.maximum(actual - predicted, 0.0)),
            ("over", np.maximum(predicted - actual, 0.0)),
        ):
            key = f"{name}_{half}"
            estimate = np.full(len(actual), np.nan)
            for k in range(3):
                train, test = rows & (fold != k), rows & (fold == k)
                if train.sum() and test.sum():
                    estimate[test] = np.maximum(
                        _train(matrix[train], target[train], categorical).predict(matrix[test]), 0
                    )
            crossed[key] = estimate
            boosters[key] = _train(matrix[rows], target[rows], categorical).model_to_string()
    size = chunk_rows or CHUNK_ROWS
    positions = order if order is not None else np.random.default_rng(seed).permutation(len(actual))
    errors = _chunk_errors(positions, size, actual, prediction, baseline, crossed, costs)
    if len(next(iter(errors.values()), [])) < MIN_CHUNKS:  # a short reference: smaller windows, scaled at use
        size = max(len(actual) // (MIN_CHUNKS * 2), 20)
        errors = _chunk_errors(positions, size, actual, prediction, baseline, crossed, costs)
    lost = costs.shortfall_cost(crossed["model_under"], crossed["model_over"])
    base = (
        costs.shortfall_cost(crossed["baseline_under"], crossed["baseline_over"])
        if "baseline_under" in crossed
        else None
    )
    row_errors = _row_errors(actual, prediction, baseline, crossed, costs, lost, base)
    if base is not None:
        both = ~np.isnan(base) & ~np.isnan(lost)
        level = float(np.mean(lost[both]) + np.mean(base[both]))
    else:
        level = float(np.nanmean(lost))
    return Estimator(
        "dle",
        encoder=encoder,
        boosters=boosters,
        chunk_rows=size,
        chunk_errors=errors,
        reference_rows=len(actual),
        loss_level=level,
        row_errors=row_errors,
    )


def _row_errors(
    actual: np.ndarray,
    prediction: np.ndarray,
    baseline: np.ndarray,
    crossed: dict[str, np.ndarray],
    costs: CostModel,
    est_lost: np.ndarray,
    est_base: np.ndarray | None,
) -> dict[str, list[float]]:
    """Estimated − realised per reference row, in each figure's unit (money per period): mean, sd and count.
    ``est_lost`` / ``est_base``: the out-of-fold estimated money lost per row, of the model and of today's process."""
    real_lost = costs.money_lost(actual, prediction)
    per_period = costs.predictions_per_period
    errors = {
        "mae": crossed["model_under"] + crossed["model_over"] - np.abs(actual - prediction),
        "money_lost": per_period * (est_lost - real_lost),
    }
    if est_base is not None:
        real_base = costs.money_lost(actual, np.where(np.isnan(baseline), 0.0, baseline))
        errors["baseline_money_lost"] = np.where(np.isnan(baseline), np.nan, per_period * (est_base - real_base))
        errors["net_value"] = errors["baseline_money_lost"] - errors["money_lost"]
    out = {}
    for name, values in errors.items():
        finite = values[np.isfinite(values)]
        if len(finite) >= 2:
            out[name] = [float(finite.mean()), float(finite.std(ddof=1)), float(len(finite))]
    return out


def _chunk_errors(
    positions: np.ndarray,
    size: int,
    actual: np.ndarray,
    prediction: np.ndarray,
    baseline: np.ndarray,
    crossed: dict[str, np.ndarray],
    costs: CostModel,
) -> dict[str, list[float]]:
    """Estimated − realised of every figure, on consecutive reference windows of ``size`` rows."""
    errors: dict[str, list[float]] = {}
    for start in range(0, len(positions) - size + 1, size):
        rows = positions[start : start + size]
        under, over = crossed["model_under"][rows], crossed["model_over"][rows]
        truth = actual[rows] - prediction[rows]
        real_lost = costs.money_lost(actual[rows], prediction[rows])
        est_lost = costs.shortfall_cost(under, over)
        keep = ~np.isnan(under)
        if "baseline_under" in crossed:
            keep &= ~np.isnan(baseline[rows]) & ~np.isnan(crossed["baseline_under"][rows])
        if keep.sum() < size / 2:
            continue
        pairs = {
            "mae": (np.mean((under + over)[keep]), np.mean(np.abs(truth)[keep])),
            "money_lost": (costs.per_period(est_lost[keep].mean()), costs.per_period(real_lost[keep].mean())),
        }
        if "baseline_under" in crossed:
            b_under, b_over = crossed["baseline_under"][rows][keep], crossed["baseline_over"][rows][keep]
            est_base = costs.per_period(float(costs.shortfall_cost(b_under, b_over).mean()))
            real_base = costs.per_period(float(costs.money_lost(actual[rows][keep], baseline[rows][keep]).mean()))
            pairs["baseline_money_lost"] = (est_base, real_base)
            pairs["net_value"] = (est_base - pairs["money_lost"][0], real_base - pairs["money_lost"][1])
        for name, (estimated, realised) in pairs.items():
            errors.setdefault(name, []).append(float(estimated - realised))
    return errors


# ── the support ──────────────────────────────────────────────────────────────────────
def outside_support(reference: Profile, inputs: pd.DataFrame) -> float:
    """Share of rows with an input outside the reference's support: a number beyond its range, or a
    category it never saw. Estimates lean on the reference; these rows are where it has nothing to say."""
    if len(inputs) == 0:
        return 0.0
    outside = np.zeros(len(inputs), dtype=bool)
    for name, column in reference.columns.items():
        if name not in inputs.columns or name == "prediction":
            continue
        if column.kind == "numeric" and column.minimum is not None and column.maximum is not None:
            values = pd.to_numeric(inputs[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            outside |= (values < column.minimum) | (values > column.maximum)
        elif column.kind == "categorical" and column.categories and "__other__" not in column.categories:
            text = inputs[name].astype("string")
            outside |= (text.notna() & ~text.isin(column.categories)).to_numpy(dtype=bool)
    return float(outside.mean())


__all__ = ["ASSUMPTIONS", "Encoder", "Estimate", "Estimator", "expected_calibration_error", "fit", "outside_support"]
