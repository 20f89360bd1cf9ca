"""Shadow scoring: any model on the traffic the champion really served, judged by the actuals that came back.

Two models are comparable only on the same rows. The review uses this to ask whether the
``previous`` version would have done better than the champion on the champion's own recent
traffic (→ rollback); retraining uses it to ask whether a challenger beats the champion on the
most recent window before it may be promoted. Lag features are built from every actual known
now — the training data and the feedback — exactly as the service builds them; lags look
only backwards, so no row sees its own actual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlcycle.metrics import catalogue, decision
from mlcycle.metrics.interval import Interval, resample_means
from mlcycle.monitor import performance as performance_mod
from mlcycle.store import Store

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace
    from mlcycle.develop.model import MlcycleModel


@dataclass(frozen=True)
class ShadowScore:
    rows: int
    money_lost: float  # per period, on these rows
    metric: str | None
    metric_value: float
    lost_per_row: np.ndarray | None = field(default=None, compare=False, repr=False)  # for paired intervals
    days: np.ndarray | None = field(default=None, compare=False, repr=False)  # each row's day, with a time column
    per_period: float = 1.0  # predictions per period: per-row money × this = money per period

    def describe(self, currency: str, period: str) -> str:
        shown = f"{self.metric} {self.metric_value:,.4g}, " if self.metric else ""
        return f"{shown}money lost {self.money_lost:,.0f} {currency} per {period} on {self.rows:,} rows"

    def summary(self) -> dict[str, Any]:
        """The figures as the store keeps them (JSON)."""
        return {
            "rows": self.rows,
            "money_lost": self.money_lost,
            "metric": self.metric,
            "metric_value": self.metric_value,
        }


def saving(first: ShadowScore, second: ShadowScore) -> Interval | None:
    """The interval of how much less money ``second`` loses than ``first`` per period, on the same rows: a
    bootstrap of the per-row difference by day (row), so the pairing — same rows, same actuals — is kept."""
    if first.lost_per_row is None or second.lost_per_row is None or len(first.lost_per_row) != len(second.lost_per_row):
        return None
    resampled = resample_means(first.lost_per_row - second.lost_per_row, first.days)
    return None if resampled is None else resampled.interval(resampled.means[:, 0] * first.per_period)


def load_version(ws: Workspace, version: str) -> MlcycleModel:
    return load_uri(ws, f"models:/{ws.name}/{version}")


def load_uri(ws: Workspace, uri: str) -> MlcycleModel:
    import mlflow

    from mlcycle.develop.tracking import Tracker

    tracker = Tracker(ws.state_dir, ws.name)
    mlflow.set_tracking_uri(tracker.uri)
    mlflow.set_registry_uri(tracker.uri)
    return mlflow.pyfunc.load_model(uri).unwrap_python_model()


def labelled_rows(ws: Workspace, store: Store, labelled: pd.DataFrame) -> pd.DataFrame:
    """The logged inputs of labelled predictions, typed as in the training data, with their actuals."""
    labelled = labelled.dropna(subset=["actual"]).reset_index(drop=True)
    inputs = (
        store.predictions.inputs(list(labelled["request_id"])).reindex(labelled["request_id"]).reset_index(drop=True)
    )
    data = ws.data
    for column in inputs.columns:
        if column not in data.columns:
            continue
        if pd.api.types.is_datetime64_any_dtype(data[column]):
            inputs[column] = pd.to_datetime(inputs[column])
        elif pd.api.types.is_numeric_dtype(data[column]) and not pd.api.types.is_bool_dtype(data[column]):
            inputs[column] = pd.to_numeric(inputs[column], errors="coerce")
        else:
            inputs[column] = inputs[column].astype(data[column].dtype, errors="ignore")
    return inputs.assign(
        _actual=labelled["actual"].to_numpy(dtype=float),
        _actual_label=labelled["actual_label"].to_numpy(dtype=object),
    )


def predict(
    ws: Workspace, store: Store, model: MlcycleModel, rows: pd.DataFrame, *, known: pd.DataFrame | None = None
) -> np.ndarray:
    """What ``model`` would have answered for ``rows``, with lags from every actual known now
    (``known``: those actuals, when the caller has read them already)."""
    history = None
    if model.features.needs_history:
        history = model.features.history_from(performance_mod.known_actuals(ws, store) if known is None else known)
    return np.asarray(model.predict_value(rows[model.input_columns], history), dtype=float)


def score(
    ws: Workspace,
    store: Store,
    model: MlcycleModel,
    rows: pd.DataFrame,
    *,
    metric: str | None = None,
    known: pd.DataFrame | None = None,
) -> ShadowScore:
    """Money lost (per period) and ``metric`` of ``model`` on ``rows`` from :func:`labelled_rows`."""
    design = ws.spec
    values = predict(ws, store, model, rows, known=known)
    money = performance_mod.costs(ws)
    if design.task == "classification":
        y = rows["_actual"].to_numpy(dtype=float)  # 1.0 = the positive class (performance.labelled_predictions)
        scored = catalogue.Scored(y, decision.decide(values, model.threshold), money, y_score=values)
    else:
        scored = catalogue.Scored(rows["_actual"].to_numpy(dtype=float), values, money)
    value = catalogue.CATALOGUE[metric](scored) if metric in catalogue.CATALOGUE else math.nan
    days = rows[design.time_column].to_numpy() if design.time_column and design.time_column in rows else None
    return ShadowScore(
        len(rows),
        float(catalogue.CATALOGUE["money_lost"](scored)),
        metric,
        float(value),
        money.money_lost(scored.y_true, scored.y_pred),
        days,
        money.predictions_per_period,
    )


def compare(
    ws: Workspace, store: Store, models: dict[str, Any], labelled: pd.DataFrame, metric: str | None = None
) -> dict[str, ShadowScore]:
    """Each named model scored on the same labelled traffic, with the actuals known now read once."""
    rows = labelled_rows(ws, store, labelled)
    known = performance_mod.known_actuals(ws, store) if ws.spec.time_column else None
    return {name: score(ws, store, model, rows, metric=metric, known=known) for name, model in models.items()}


__all__ = ["ShadowScore", "compare", "labelled_rows", "load_uri", "load_version", "predict", "saving", "score"]
