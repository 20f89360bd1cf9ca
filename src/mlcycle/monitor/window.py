"""One monitoring window: drift, performance, money, latency and errors — then the alerts they raise.

``monitor(ws, window="7d")`` computes the latest window; ``since=`` computes every window from
then on (a backfill, or a replayed period), oldest first so alert episodes open and close in
the order things happened. Each result is stored (recomputing a window replaces it) and the
monitoring report is rewritten from everything stored.

Windows are on the time a prediction is *for* — its event time, for a forecast the day it
forecasts — falling back to when it was made. A forecast for Monday is judged with
Monday's sales whenever it was requested; a replayed or backfilled period lands in the
weeks it belongs to. Latency and failed requests are counted by when requests were made.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlcycle.contract.spec import Design, as_labels, parse_duration
from mlcycle.data.reference import Profile
from mlcycle.develop import registry
from mlcycle.develop.tracking import Tracker
from mlcycle.exceptions import UseCaseError
from mlcycle.metrics.estimation import Estimator
from mlcycle.monitor import alerts as alerts_mod
from mlcycle.monitor import performance as performance_mod
from mlcycle.monitor.drift import DriftReport, drift
from mlcycle.monitor.performance import Performance
from mlcycle.store import Store, StoredWindow, open_store, utcnow

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace

PREDICTION = "prediction"  # the model's output as the reference profile names it


@dataclass
class MonitoringResult:
    start: datetime
    end: datetime
    model_version: str | None
    drift: DriftReport
    performance: Performance
    latency_p95_ms: float | None = None
    requests: int = 0
    errors: int = 0
    alerts: alerts_mod.Outcome = field(default_factory=alerts_mod.Outcome)
    conditions: list[alerts_mod.Condition] = field(default_factory=list)
    report_path: Path | None = None

    @property
    def error_rate(self) -> float | None:
        total = self.requests + self.errors
        return self.errors / total if total else None

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} → {self.end:%Y-%m-%d %H:%M}".replace(" 00:00", "")

    def row(self, metric: str | None) -> StoredWindow:
        """The window as the store keeps it."""
        perf = self.performance
        value = perf.value(metric) if metric and perf.metrics else math.nan
        base = perf.baseline_value(metric) if metric else math.nan
        details = {
            "drift": [
                {
                    "column": r.column,
                    "statistic": r.statistic,
                    "value": _finite(r.value),
                    "threshold": r.threshold,
                    "warn": r.warn,
                    "level": r.level,
                    "rows": r.rows,
                    "basis": r.basis,
                }
                for r in self.drift.rows
            ],
            "metrics": perf.metrics,
            "baseline": perf.baseline,
            "intervals": {"realised_value": perf.realised_interval.to_dict()} if perf.realised_interval else {},
            "estimated": perf.estimated,
            "fairness": perf.fairness,
            "note": perf.note,
            "active": [c.__dict__ for c in self.conditions if c.active],
            "raised": [e["message"] for e in self.alerts.raised],
            "cleared": [e["message"] for e in self.alerts.cleared],
            "sink_errors": self.alerts.sink_errors,
            "requests": self.requests,
            "errors": self.errors,
        }
        return StoredWindow(
            start=self.start,
            end=self.end,
            computed_at=utcnow(),
            model_version=self.model_version,
            predictions=perf.predictions,
            labelled=perf.labelled,
            metric=metric,
            metric_value=_finite(value),
            baseline_metric_value=_finite(base),
            realised_value=_finite(perf.realised_value),
            estimated_value=_finite(perf.estimated_value),
            validated_value=_finite(perf.validated_value),
            latency_p95_ms=_finite(self.latency_p95_ms),
            error_rate=self.error_rate,
            drifted=len(self.drift.drifted),
            details=details,
        )


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


ANCHOR = datetime(2000, 1, 3)  # a Monday: 7d windows run Monday to Sunday, 1d windows midnight to midnight


def windows(
    ws: Workspace,
    store: Store,
    window: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[tuple[datetime, datetime]]:
    """The windows to compute, oldest first; empty when nothing is logged.

    Windows sit on a fixed grid (multiples of their length from a Monday), so a window has the
    same start whether it is computed live, every hour, or in a backfill — and computing it again
    replaces it. Without ``since``: the window holding the latest prediction and the one before it
    (which may have grown since it was last computed). With ``since``: every window from the one
    holding ``since``. The latest window ends at the latest prediction (or ``until``) while it is open.
    """
    length = parse_duration(window or ws.spec.monitoring.window)
    _first, last = store.predictions.span("event")
    if last is None:
        return []
    unit = "h" if length < timedelta(days=1) else "D"
    end = until or pd.Timestamp(last + timedelta(microseconds=1)).ceil(unit).to_pydatetime()
    latest = _grid(end - timedelta(microseconds=1), length)
    earliest = _grid(pd.Timestamp(since).to_pydatetime(), length) if since is not None else latest - length
    spans = []
    start = earliest
    while start <= latest:
        spans.append((start, min(start + length, end)))
        start += length
    return spans


def _grid(when: datetime, length: timedelta) -> datetime:
    """The start of the grid window holding ``when``."""
    return ANCHOR + ((when - ANCHOR) // length) * length


class _Versions:
    """What each served model version brings to monitoring: its reference profile and validated money."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.tracker = Tracker(ws.state_dir, ws.name)
        self._profiles: dict[str, Profile | None] = {}
        self._figures: dict[str, dict[str, float]] = {}
        self._estimators: dict[str, Estimator | None] = {}

    def profile(self, version: str | None) -> Profile | None:
        if version is None:
            return None
        if version not in self._profiles:
            try:
                self._profiles[version] = Profile.from_dict(
                    registry.reference_profile(self.tracker, self.ws.name, version)
                )
            except Exception:  # a version without a profile (or gone from the registry): drift is skipped, not fatal
                self._profiles[version] = None
        return self._profiles[version]

    def estimator(self, version: str | None) -> Estimator | None:
        """The version's CBPE / DLE estimator; None for a version promoted before estimators (or without one)."""
        if version is None:
            return None
        if version not in self._estimators:
            try:
                self._estimators[version] = Estimator.from_dict(registry.estimator(self.tracker, self.ws.name, version))
            except Exception:  # no estimator: figures wait for the actuals, as before
                self._estimators[version] = None
        return self._estimators[version]

    def validated_value(self, version: str | None) -> float | None:
        if version is None:
            return None
        if version not in self._figures:
            try:
                self._figures[version] = registry.gate_figures(self.tracker, self.ws.name, version)
            except Exception:
                self._figures[version] = {}
        return self._figures[version].get("net_value")


def current_frame(ws: Workspace, store: Store, labelled: pd.DataFrame, reference: Profile) -> pd.DataFrame:
    """The window as the reference profile sees it: logged inputs, the model's output, and actuals."""
    inputs = store.predictions.inputs(list(labelled["request_id"])).reindex(labelled["request_id"])
    frame = pd.DataFrame(index=range(len(labelled)))
    for name, column in reference.columns.items():
        if name == PREDICTION:
            values: Any = labelled["output"].to_numpy(dtype=float)
        elif name == ws.spec.target:
            values = (
                as_labels(ws.spec, labelled["actual"], column.categories or [])
                if column.kind == "categorical"
                else labelled["actual"].to_numpy(dtype=float)
            )
        elif name in inputs.columns:
            values = inputs[name].to_numpy()
        else:
            continue
        if column.kind == "numeric":
            values = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
        frame[name] = values
    return frame


def compute(
    ws: Workspace,
    store: Store,
    start: datetime,
    end: datetime,
    versions: _Versions,
    *,
    latest: bool = False,
    known: pd.DataFrame | None = None,
) -> MonitoringResult:
    """One window's figures, before alerts (``latest``: failed requests are counted up to now;
    ``known``: every actual known now, read once for many windows)."""
    design = ws.spec
    labelled = performance_mod.labelled_predictions(ws, store, start, end, by="event")
    version = str(labelled["model_version"].mode().iloc[0]) if len(labelled) else None
    performance = performance_mod.evaluate(
        ws,
        store,
        start,
        end,
        by="event",
        frame=labelled,
        known=known,
        validated_value=versions.validated_value(version),
        estimator=versions.estimator(version),
        reference=versions.profile(version),
    )
    reference = versions.profile(version)
    report = DriftReport()
    if reference is not None and len(labelled):
        settings = design.monitoring.drift
        report = drift(
            reference,
            current_frame(ws, store, labelled, reference),
            numeric=settings.numeric,
            categorical=settings.categorical,
            statistic=settings.statistic,
            warn=settings.warn,
            alert=settings.alert,
            per_feature=settings.per_feature,
            min_rows=settings.min_rows,
            month=_month(labelled) if design.time_column else None,
        )
    latencies = labelled["latency_ms"].dropna().to_numpy(dtype=float) if len(labelled) else np.array([])
    made_from, made_until = _created_span(labelled, start, end)
    requests, errors = store.predictions.request_counts(made_from, max(made_until, utcnow()) if latest else made_until)
    return MonitoringResult(
        start,
        end,
        version,
        report,
        performance,
        float(np.percentile(latencies, 95)) if len(latencies) else None,
        requests,
        errors,
    )


def _month(labelled: pd.DataFrame) -> int | None:
    """The month of the year most of the window's predictions are for (its season)."""
    when = pd.to_datetime(labelled["event_time"]).dropna()
    return int(when.dt.month.mode().iloc[0]) if len(when) else None


def _created_span(labelled: pd.DataFrame, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """When the window's requests were made: the window itself, or — for a replayed past — when they really ran."""
    if len(labelled) == 0:
        return start, end
    made = pd.to_datetime(labelled["created_at"])
    return min(start, made.min().to_pydatetime()), max(end, made.max().to_pydatetime() + timedelta(microseconds=1))


def monitor(
    ws: Workspace,
    window: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    store: Store | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[MonitoringResult]:
    """Compute, store and alert on the latest window (or every window from ``since``)."""
    store = store or open_store(ws.state_dir)
    spans = windows(ws, store, window, since, until)
    if not spans:
        raise UseCaseError(
            "no predictions are logged yet, so there is nothing to monitor: serve the champion "
            "(`mlcycle serve`) or score a batch (`mlcycle predict`) first"
        )
    length = parse_duration(window or ws.spec.monitoring.window)
    with store.exclusive("monitor"):  # one run at a time: interleaved windows would clear and re-raise episodes
        return _monitor(ws, store, spans, length, progress)


def _monitor(
    ws: Workspace,
    store: Store,
    spans: list[tuple[datetime, datetime]],
    length: timedelta,
    progress: Callable[[int, int], None] | None,
) -> list[MonitoringResult]:
    versions = _Versions(ws)
    consecutive = ws.spec.monitoring.drift.consecutive
    levels = (  # drift levels per column of every stored window, by start: what `consecutive` looks back on
        {w.start: {r["column"]: r["level"] for r in w.details.get("drift", [])} for w in store.history.windows()}
        if consecutive > 1
        else {}
    )
    delivery = alerts_mod.Delivery(store, alerts_mod.sinks_for(ws.spec, ws.state_dir, store))
    resent = delivery.resend()
    metric = watched_metric(ws.spec)
    stored = store.history.windows(last=1)
    alerted_until = stored[0].end if stored else None
    # the actuals today's process may need for these windows, read once (not the whole log: see known_actuals)
    known = performance_mod.known_actuals(ws, store, spans[0][0], spans[-1][1]) if ws.spec.time_column else None
    results = []
    for done, (start, end) in enumerate(spans):
        result = compute(ws, store, start, end, versions, latest=done == len(spans) - 1, known=known)
        result.conditions = alerts_mod.persistent(
            alerts_mod.conditions(ws.spec, result.drift, result.performance, result.latency_p95_ms, result.error_rate),
            [levels.get(start - length * back) for back in range(1, consecutive)],
            consecutive,
        )
        if consecutive > 1:
            levels[start] = {r.column: r.level for r in result.drift.rows}
        if alerted_until is None or end >= alerted_until:  # a window recomputed behind the latest does not re-alert
            result.alerts = alerts_mod.process(ws.name, store, result.conditions, delivery, when=min(end, utcnow()))
        if done == 0:  # what the run sent again is told with its first window
            result.alerts.resent = resent.resent
            result.alerts.sink_errors[:0] = resent.sink_errors
        store.history.save_window(result.row(metric))
        results.append(result)
        if progress:
            progress(done + 1, len(spans))
    return results


def watched_metric(design: Design) -> str | None:
    """The metric the windows track: the monitoring rule's, else the quality requirement's."""
    if design.monitoring.performance is not None:
        return design.monitoring.performance.metric
    return design.requirements.quality.metric if design.requirements.quality else None


__all__ = ["MonitoringResult", "compute", "monitor", "watched_metric", "windows"]
