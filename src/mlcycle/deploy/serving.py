"""What a service worker serves: the champion, its schema, its history — and how it changes safely.

The champion is ``models:/<name>@champion``. A new one is taken only if it loads *and*
predicts its own input example; otherwise the old one keeps serving and the reason is
returned. Each worker checks the alias on a short interval, so with ``--workers N`` every
worker picks up a new champion (or a rollback) without a restart. Actuals that arrive as
feedback extend the history lag features are built from; workers that did not receive them
read them from the store on the same interval.
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlcycle.contract.spec import actual_numbers
from mlcycle.data.history import LagHistory
from mlcycle.data.schema import Schema
from mlcycle.deploy.fastpath import FastPath
from mlcycle.develop import registry
from mlcycle.develop.tracking import Tracker
from mlcycle.exceptions import ModelError
from mlcycle.store import Store, given_actuals, series_values, utcnow

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace
    from mlcycle.develop.model import MlcycleModel


@dataclass
class Loaded:
    """A champion as one worker serves it. ``history`` is the lag table this worker owns: the model's own,
    extended with the actuals that came back since; swapped whole (never changed in place) as more arrive."""

    model: MlcycleModel
    version: str
    schema: Schema
    loaded_at: float
    fast: FastPath | None = None  # the verified lean path, or None to use the Pipeline
    history: LagHistory | None = None


class Serving:
    def __init__(self, ws: Workspace, store: Store) -> None:
        self.ws = ws
        self.store = store
        self.tracker = Tracker(ws.state_dir, ws.name)
        self.current: Loaded | None = None
        self.last_error: str | None = None
        self._refused: str | None = None  # the version last refused, so the poller does not load it on every poll
        self._swap = threading.Lock()
        self._feedback_seen = 0
        self._history = threading.Lock()
        self.retired: dict[str, Any] | None = store.history.get_status("retired")
        self._errors: list[tuple[datetime, str, int]] = []  # failed scoring requests, written on each poll

    @property
    def ready(self) -> bool:
        return self.current is not None

    # ── loading and reloading ────────────────────────────────────────────────────────
    def _load(self, version: str) -> Loaded:
        import mlflow

        mlflow.set_tracking_uri(self.tracker.uri)
        mlflow.set_registry_uri(self.tracker.uri)
        try:
            loaded = mlflow.pyfunc.load_model(f"models:/{self.ws.name}/{version}")
            model = loaded.unwrap_python_model()
        except Exception as exc:  # any failure to load is a refusal, never a crash
            raise ModelError(
                f"version {version} failed to load: {type(exc).__name__}: {exc} — its files are at "
                f"{self._source(version)}; restore them, or point the champion alias at a sound version"
            ) from None
        if getattr(model, "schema", None) is None or not hasattr(model, "predict_value"):
            raise ModelError(f"version {version} is not an mlcycle model (no input schema logged with it)")
        example = pd.DataFrame(model.meta.get("input_example") or [])
        try:
            values = np.asarray(model.predict_value(example), dtype=float)
            if len(example) == 0 or not np.isfinite(values).all():
                raise ModelError("no finite prediction on the input example")
        except Exception as exc:
            raise ModelError(f"version {version} failed its smoke prediction on the input example: {exc}") from None
        typed = _typed(example, model.input_columns)
        fast = FastPath.compile(model, typed)
        self._warm_explainer(model, version, typed)
        loaded = Loaded(model, version, Schema.from_dict(model.schema), time.time(), fast, model.features.history_)
        self._replay_feedback(loaded, fresh=True)
        return loaded

    def _warm_explainer(self, model: MlcycleModel, version: str, typed: pd.DataFrame) -> None:
        """Explain the input example once, here, off the request path: the first explanation builds SHAP's
        explainer (and imports SHAP), which took 13 s for a random forest — the first client asking for an
        explanation would have waited that long. A failure is noted, not fatal: predictions do not need it."""
        if model.explainer is None:
            return
        try:
            model.explainer.explain(typed, model.features.transform(typed))
        except Exception as exc:  # whatever SHAP raised: /explain will say so for real rows
            self.last_error = f"version {version}: explaining its input example failed: {type(exc).__name__}: {exc}"

    def _source(self, version: str) -> str:
        try:
            return str(self.tracker.client.get_model_version(self.ws.name, version).source)
        except Exception:  # the registry itself is unreadable: the message says what it can
            return "an unknown location"

    def load_champion(self, *, again: bool = True) -> Loaded:
        """Load the version the champion alias names, unless it is already served.

        ``again=False`` (the poller) does not try a version refused before: a damaged version would
        otherwise be read from disk and refused on every poll, by every worker, until someone acts.
        """
        version = registry.alias_version(self.tracker, self.ws.name, registry.CHAMPION)
        if version is None:
            raise ModelError(f"no registered model {self.ws.name!r} has alias 'champion'; run `mlcycle promote`")
        with self._swap:
            if self.current is not None and self.current.version == version:
                if self._refused is not None:  # the alias came back to what is served: the refusal is over
                    self._refused = self.last_error = None
                return self.current
            if not again and version == self._refused and self.last_error:
                raise ModelError(self.last_error)
            try:
                loaded = self._load(version)
            except ModelError:
                self._refused = version
                raise
            self.current = loaded
            _settle_heap()
            self._refused = None
            if self.last_error is not None and not self.last_error.startswith(f"version {version}:"):
                self.last_error = None  # an earlier refusal is over; the new version's own note stays
            return loaded

    def reload(self) -> Loaded:
        """Re-read the champion alias; on any failure keep the current model and raise ModelError."""
        try:
            return self.load_champion()
        except ModelError as refused:
            self.last_error = str(refused)
            raise

    def poll(self) -> None:
        """Called on an interval by each worker: follow the alias, read feedback other workers received,
        notice a retirement, write the failed requests counted since the last poll."""
        try:
            self.load_champion(again=False)
        except ModelError as refused:
            self.last_error = str(refused)
        self.refresh_history()
        self.retired = self.store.history.get_status("retired")
        self.flush_errors()

    def note_error(self, route: str, status: int) -> None:
        """Count a failed scoring request (the error-rate alert reads them); no I/O on the request path."""
        self._errors.append((utcnow(), route, status))

    def flush_errors(self) -> None:
        errors, self._errors = self._errors, []
        if errors:
            self.store.predictions.log_errors(errors)

    # ── retention ────────────────────────────────────────────────────────────────────
    def prune(self) -> int:
        """Delete prediction rows older than ``deployment.log_retention_days``.

        With ``compliance.audit_log`` on, rows of model versions still in the registry are kept:
        a decision stays explainable as long as the model that made it exists.
        """
        design = self.ws.spec
        keep: set[str] = set()
        if design.requirements.compliance.audit_log:
            try:
                versions = self.tracker.client.search_model_versions(f"name='{self.ws.name}'")
                keep = {str(v.version) for v in versions}
            except Exception:
                return 0  # registry unreachable: keep everything rather than prune blindly
        cutoff = utcnow() - timedelta(days=design.deployment.log_retention_days)
        return self.store.predictions.prune(cutoff, keep_versions=keep)

    # ── history for lag features ─────────────────────────────────────────────────────
    def _replay_feedback(self, loaded: Loaded, *, fresh: bool = False) -> None:
        """Give ``loaded`` a history with the actuals in the store it has not seen (all of them when ``fresh``)."""
        builder = loaded.model.features
        if not builder.needs_history:
            return
        with self._history:
            frame = self.store.feedback.since(0 if fresh else self._feedback_seen)
            if frame.empty:
                return
            actuals = self._actuals_from_feedback(frame)
            if not actuals.empty:
                loaded.history = builder.extended_history(loaded.history, actuals)
            self._feedback_seen = int(frame["id"].max())

    def _actuals_from_feedback(self, frame: pd.DataFrame) -> pd.DataFrame:
        design = self.ws.spec
        rows = []
        by_id = frame[frame["request_id"].notna()]
        ids = list(by_id["request_id"])
        found = {r.request_id: r for r in self.store.predictions.refs(ids)} if ids else {}
        numbers = actual_numbers(design, given_actuals(frame)).to_numpy()
        for item, value in zip(frame.itertuples(), numbers):
            key, when = item.series_key, item.event_time
            if item.request_id and item.request_id in found:
                key, when = found[item.request_id].series_key, found[item.request_id].event_time
            if key is None or when is None or value != value:
                continue
            values: list[str] = series_values(key)
            rows.append(
                {
                    **dict(zip(design.group_columns, values, strict=False)),
                    str(design.time_column): when,
                    design.target: float(value),
                }
            )
        return pd.DataFrame(rows)

    def refresh_history(self) -> None:
        if self.current is not None:
            self._replay_feedback(self.current)


def _typed(example: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The input example with its time-like text columns as datetimes, as validation would type them."""
    out = example[columns].copy()
    for column in columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            parsed = pd.to_datetime(out[column], errors="coerce", format="ISO8601")
            if parsed.notna().all():
                out[column] = parsed
    return out


def _settle_heap() -> None:
    """Keep what is loaded out of the garbage collector's full passes. With a champion loaded the process holds
    some 400,000 objects, and a full collection walked them all — 205 ms, paid by whichever request happened to
    trigger it: 1,000-row requests answered in 30 ms at the median and 206 ms at p99. ``gc.freeze`` moves every
    object alive now into a generation collections skip; unfrozen first, so what the swap let go of is collected
    here, once (the poller's thread, not a request, waits for it)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
