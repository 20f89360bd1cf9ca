"""Performance on delayed ground truth: logged predictions joined with the actuals that came back.

Per window: how many predictions have an actual yet, all three metric views on those that
do, and the money *realised* — today's process scored on the same rows from the actuals
the shop now knows — next to the design's estimate and the development phase's validated
figure. While no actual has arrived the result says so and carries no metric: a metric on
zero rows is never reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlcycle.contract.spec import actual_numbers, positive_mask
from mlcycle.data.reference import Profile
from mlcycle.design import baseline as baseline_mod
from mlcycle.design.value import cost_model, estimate, predictions_per_period
from mlcycle.metrics import catalogue, fairness
from mlcycle.metrics.cost import CostModel
from mlcycle.metrics.estimation import Estimator, outside_support
from mlcycle.metrics.interval import Interval, resample_means
from mlcycle.store import FRAMED_COLUMNS, Store, TimeBasis, given_actuals, series_values

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace


@dataclass
class Performance:
    predictions: int
    labelled: int
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # empty while nothing is labelled
    baseline: dict[str, dict[str, float]] = field(default_factory=dict)
    realised_value: float | None = None  # added value per period, realised
    estimated_value: float | None = None  # the design's estimate at the gate's required cut
    validated_value: float | None = None  # the champion's cross-validated figure
    note: str = ""
    realised_interval: Interval | None = None  # over the window's days (rows without a time column)
    estimated: dict[str, Any] | None = None  # figures estimated without actuals (Estimate.to_dict, support, check)
    fairness: list[dict[str, Any]] = field(default_factory=list)  # per protected column sent with the requests

    @property
    def labelled_share(self) -> float:
        return self.labelled / self.predictions if self.predictions else 0.0

    def value(self, name: str) -> float:
        """The model's figure for metric ``name`` (NaN when not measured)."""
        return _find(self.metrics, name)

    def baseline_value(self, name: str) -> float:
        """Today's process's figure for metric ``name`` on the same rows (NaN when not measured)."""
        return _find(self.baseline, name)


def _find(views: dict[str, dict[str, float]], name: str) -> float:
    for view in views.values():
        if name in view:
            return view[name]
    return math.nan


def costs(ws: Workspace) -> CostModel:
    """The design's costs per prediction, scaled to its period (predictions per period from the design or data)."""
    design = ws.spec
    per_period, _ = (
        predictions_per_period(design, data_history(ws))
        if design.time_column
        else (design.value.predictions_per_period or 1.0, False)
    )
    return cost_model(design, per_period)


def labelled_predictions(
    ws: Workspace,
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    by: TimeBasis = "created",
) -> pd.DataFrame:
    """Predictions of a window with their actual where one came back (by request id, else by series and time).

    ``actual`` is a number on every labelled row: the value itself for regression, 1.0 or 0.0
    (the design's positive class or not) for classification, however the label was sent —
    ``"Yes"``, ``1``, ``true``. ``actual_label`` keeps the label as it was given. The store joins the
    feedback to the window's rows: the rest of the log and of the feedback is never read.
    """
    parts = [_with_actuals(ws, part) for part in store.predictions.labelled(since, until, by=by)]
    if parts:
        return pd.concat(parts, ignore_index=True)
    return _with_actuals(ws, pd.DataFrame(columns=[*FRAMED_COLUMNS, "actual", "actual_label"]))


def _with_actuals(ws: Workspace, part: pd.DataFrame) -> pd.DataFrame:
    """A chunk of the log as monitoring reads it: event times as times, the actual as a number and as given."""
    given = given_actuals(part)
    return part.assign(
        event_time=pd.to_datetime(part["event_time"]),
        actual=actual_numbers(ws.spec, given),
        actual_label=given.where(given.notna(), None),
    )


def known_actuals(
    ws: Workspace, store: Store, since: datetime | None = None, until: datetime | None = None
) -> pd.DataFrame:
    """Every actual today's process may need to answer for the predictions of ``[since, until)`` (by event
    time): the training data, and the actuals that came back for the logged predictions — from as far back
    as the baseline looks (:func:`mlcycle.design.baseline.reach`), one row per series and step; without
    ``since``, all of them (a model's lag features may look further back than the baseline). For
    ``last_value`` the log before ``since`` is read in chunks and only each series' latest actual kept, so
    memory follows the window and the number of series, never the length of the log."""
    design = ws.spec
    assert design.time_column is not None  # known actuals are kept only for designs with a time column
    keys = [*design.group_columns, design.time_column]
    known = [ws.data[[*keys, design.target]]]
    reach = baseline_mod.reach(design)
    start = None if since is None or reach is None else since - reach.to_pytimedelta()
    latest: pd.DataFrame | None = None  # last_value: each series' last actual before `since`
    for part in store.predictions.labelled(start, until, by="event", only_labelled=True):
        rows = _known_rows(ws, _with_actuals(ws, part))
        if since is not None and start is None:
            early = rows[rows[design.time_column] < pd.Timestamp(since)]
            rows = rows[rows[design.time_column] >= pd.Timestamp(since)]
            latest = pd.concat([latest, early], ignore_index=True)  # oldest first, as the log streams
            groups = design.group_columns
            latest = latest.groupby(groups, dropna=False).tail(1) if groups else latest.tail(1)
        known.append(rows)
    if latest is not None:
        known.insert(1, latest)
    frame = pd.concat(known, ignore_index=True)
    return frame.drop_duplicates(subset=keys, keep="last")


def _known_rows(ws: Workspace, labelled: pd.DataFrame) -> pd.DataFrame:
    """Labelled predictions as rows of the data: group columns, time, target (the label itself for classes)."""
    design = ws.spec
    assert design.time_column is not None
    labelled = labelled.dropna(subset=["actual", "event_time"])
    if design.group_columns:
        labelled = labelled.dropna(subset=["series_key"])
    value = labelled["actual_label"] if design.task == "classification" else labelled["actual"]
    return _series_columns(ws, labelled).assign(**{design.time_column: labelled["event_time"], design.target: value})


def evaluate(
    ws: Workspace,
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    validated_value: float | None = None,
    by: TimeBasis = "created",
    frame: pd.DataFrame | None = None,
    known: pd.DataFrame | None = None,
    estimator: Estimator | None = None,
    reference: Profile | None = None,
) -> Performance:
    """The window's three views, realised money and coverage.

    ``frame``: the window's labelled predictions and ``known``: every actual known now, when the caller has read
    them already (monitoring many windows reads the actuals once, not once per window). ``estimator``: the
    version's CBPE / DLE estimator — the window's figures are then also estimated from the predictions alone
    (every row, labelled or not), and, on the rows whose actuals came back, checked against them; ``reference``:
    its reference profile, to measure the share of rows outside its support.
    """
    design = ws.spec
    frame = labelled_predictions(ws, store, since, until, by=by) if frame is None else frame
    design_estimate = estimate(design, data_history(ws)).at_gate.added_value_per_period
    result = Performance(
        len(frame),
        int(frame["actual"].notna().sum()),
        estimated_value=design_estimate,
        validated_value=validated_value,
    )
    if result.predictions == 0:
        result.note = "no predictions in this window"
        return result
    if estimator is not None:
        result.estimated = _estimated(ws, store, frame, known, estimator, reference)
    if result.labelled == 0:
        result.note = (
            f"no actuals yet for the {result.predictions:,} predictions of this window: "
            "performance and money wait for feedback; drift is shown alone"
        )
        return result
    labelled = frame.dropna(subset=["actual"])
    money = costs(ws)
    views = catalogue.measured(design, ws.folder)
    y = labelled["actual"].to_numpy(dtype=float)
    base = _baseline(ws, store, labelled, known)
    # the model and today's process are compared on the same rows: those today's process has an answer for
    keep = ~np.isnan(base) if not np.isnan(base).all() else np.ones(len(labelled), dtype=bool)
    compared = base[keep] if not np.isnan(base).all() else None
    if design.task == "classification":
        decided = positive_mask(design, labelled["output_label"]).to_numpy(dtype=float)
        scored = catalogue.Scored(
            y[keep],
            decided[keep],
            money,
            y_score=labelled["output"].to_numpy(dtype=float)[keep],
            baseline_pred=compared,
        )
    else:
        scored = catalogue.Scored(
            y[keep], labelled["output"].to_numpy(dtype=float)[keep], money, baseline_pred=compared
        )
    if compared is not None:
        result.baseline = catalogue.evaluate(catalogue.Scored(y[keep], compared, money), views)
    else:
        result.note = (
            f"today's process ({baseline_mod.describe(design)}) cannot be scored on the served rows, "
            "so realised added value is unknown"
        )
    result.metrics = catalogue.evaluate(scored, views)
    net = catalogue.CATALOGUE["net_value"](scored)
    result.realised_value = None if math.isnan(net) else net
    if compared is not None and result.realised_value is not None:
        days = labelled["event_time"].to_numpy()[keep] if design.time_column else None
        result.realised_interval = realised_interval(scored, compared, days, result.realised_value)
    result.fairness = _fairness(ws, store, labelled, y, decided if design.task == "classification" else None)
    if estimator is not None and result.estimated is not None:
        on_labelled = _estimated(ws, store, labelled, known, estimator, None)
        result.estimated["check"] = _check(on_labelled, result.metrics, result.baseline)
    return result


def _fairness(
    ws: Workspace, store: Store, labelled: pd.DataFrame, actual: np.ndarray, decided: np.ndarray | None
) -> list[dict[str, Any]]:
    """Fairness per group on the window's labelled rows, for each protected column the requests carried
    (``metrics/fairness.py``), with ``max_disparity``'s findings. A column never sent is not measured."""
    compliance = ws.spec.requirements.compliance
    if not compliance.protected:
        return []
    inputs = store.predictions.inputs(list(labelled["request_id"])).reindex(labelled["request_id"])
    limit = compliance.max_disparity
    out = []
    for column in compliance.protected:
        if column not in inputs.columns or inputs[column].isna().all():
            continue
        found = fairness.measure(
            ws.spec,
            costs(ws),
            column,
            inputs[column].reset_index(drop=True),
            actual,
            labelled["output"].to_numpy(dtype=float),
            decided=decided,
            min_group_rows=limit.min_group_rows if limit is not None else 30,
        )
        findings = fairness.judge(found, limit.limited(ws.spec.task), limit.difference, limit.ratio) if limit else []
        out.append(found.to_json() | {"findings": [f.to_json() for f in findings]})
    return out


def _estimated(
    ws: Workspace,
    store: Store,
    rows: pd.DataFrame,
    known: pd.DataFrame | None,
    estimator: Estimator,
    reference: Profile | None,
) -> dict[str, Any] | None:
    """The window's figures estimated from its predictions alone (CBPE / DLE), as the store keeps them."""
    design = ws.spec
    inputs = store.predictions.inputs(list(rows["request_id"])).reindex(rows["request_id"]).reset_index(drop=True)
    baseline = _baseline(ws, store, rows.reset_index(drop=True), known)
    decided = (
        positive_mask(design, rows["output_label"]).to_numpy(dtype=float) if design.task == "classification" else None
    )
    found = estimator.estimate(
        inputs=inputs,
        prediction=rows["output"].to_numpy(dtype=float),
        baseline=baseline,
        costs=costs(ws),
        views=catalogue.measured(design, ws.folder),
        decided=decided,
    )
    if found is None:
        return None
    out = found.to_dict()
    out["outside_support"] = outside_support(reference, inputs) if reference is not None else None
    return out


def _check(
    estimated: dict[str, Any] | None, metrics: dict[str, dict[str, float]], baseline: dict[str, dict[str, float]]
) -> dict[str, dict[str, Any]]:
    """The estimator against the actuals, on the rows that have them: estimate, realised, error, covered."""
    if estimated is None:
        return {}
    realised = {name: value for view in metrics.values() for name, value in view.items()}
    base = next((v["money_lost"] for v in baseline.values() if "money_lost" in v), None)
    if base is not None:
        realised["baseline_money_lost"] = base
    out = {}
    for name, value in estimated["figures"].items():
        truth = realised.get(name)
        if value is None or truth is None or not math.isfinite(truth):
            continue
        interval = Interval.from_dict(estimated["intervals"].get(name))
        out[name] = {
            "estimated": value,
            "realised": truth,
            "error": value - truth,
            "covered": interval.covers(truth) if interval else None,
            "rows": estimated["rows"],
        }
    return out


def realised_interval(
    scored: catalogue.Scored, baseline: np.ndarray, days: np.ndarray | None, shown: float
) -> Interval | None:
    """The realised added value's interval: model and baseline money lost resampled together by day (row)."""
    money = scored.cost
    lost = np.column_stack([money.money_lost(scored.y_true, scored.y_pred), money.money_lost(scored.y_true, baseline)])
    resampled = resample_means(lost, days if days is not None and not pd.isna(days).any() else None)
    if resampled is None:
        return None
    added = money.per_period(1.0) * (resampled.means[:, 1] - resampled.means[:, 0]) - money.running_cost_per_period
    pooled = money.per_period(float(lost[:, 1].mean() - lost[:, 0].mean())) - money.running_cost_per_period
    return resampled.interval(added + (shown - pooled))


def data_history(ws: Workspace) -> pd.DataFrame:
    from mlcycle.data.load import training_rows

    return training_rows(ws.spec, ws.data)


def _series_columns(ws: Workspace, logged: pd.DataFrame) -> pd.DataFrame:
    """The group columns of logged rows, read back from their series keys and typed as in the data."""
    groups = ws.spec.group_columns
    if not groups:
        return pd.DataFrame(index=logged.index)
    codes, keys = pd.factorize(logged["series_key"])  # each distinct key parsed once, not once per row
    values = pd.DataFrame([series_values(k) for k in keys], columns=groups)
    columns = values.reindex(codes).set_axis(logged.index)
    return columns.astype({g: ws.data[g].dtype for g in groups})


def _baseline(ws: Workspace, store: Store, labelled: pd.DataFrame, known: pd.DataFrame | None = None) -> np.ndarray:
    """Today's process on the served rows (NaN where it has no answer), as development scored it:
    the seasonal and last-value methods from every actual known now (what the shop would have
    ordered), the mean and the majority class from the training history, a column from the
    logged inputs."""
    design = ws.spec
    method = design.value.baseline.method
    nothing = np.full(len(labelled), np.nan)
    if method in ("seasonal_naive", "last_value"):
        if not design.time_column or (design.group_columns and labelled["series_key"].isna().all()):
            return nothing
        rows = _series_columns(ws, labelled)
        rows[design.time_column] = labelled["event_time"].to_numpy()
        if known is None:
            when = pd.to_datetime(labelled["event_time"]).dropna()
            span = (when.min(), when.max() + pd.Timedelta(1, unit="us")) if len(when) else (None, None)
            known = known_actuals(ws, store, *span)
        return baseline_mod.predict(design, known, rows)
    if method == "column":
        column = str(design.value.baseline.column)
        inputs = store.predictions.inputs(list(labelled["request_id"])).reindex(labelled["request_id"])
        if column not in inputs.columns:
            return nothing
        rows = pd.DataFrame({column: inputs[column].to_numpy()}, index=labelled.index)
        if design.task == "regression":
            rows[column] = pd.to_numeric(rows[column], errors="coerce")
        return baseline_mod.predict(design, data_history(ws), rows)
    rows = (
        _series_columns(ws, labelled.dropna(subset=["series_key"])).reindex(labelled.index)
        if design.group_columns
        else pd.DataFrame(index=labelled.index)
    )
    return baseline_mod.predict(design, data_history(ws), rows)


__all__ = ["Performance", "costs", "data_history", "evaluate", "known_actuals", "labelled_predictions"]
