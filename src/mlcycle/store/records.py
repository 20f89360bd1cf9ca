"""What goes into the monitoring store and what comes out of it: frozen records, one per kind of row.

Readers get these, never a row mapping, so a renamed column is a type error and not a KeyError
three modules away. Bulk reads (millions of predictions, every actual) return pandas frames
instead; their columns are listed where they are returned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

import pandas as pd

# view: read the dashboard; predict / feedback: the service's two write routes; admin: everything.
SCOPES = ("view", "predict", "feedback", "admin")


def utcnow() -> datetime:
    """Now in UTC without a zone: every time the store keeps is naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def series_key(values: Any) -> str:
    """How the store writes a series' identity (its group values, as text): one format for every writer."""
    return json.dumps([str(v) for v in values])


def series_values(key: str) -> list[str]:
    """The group values a :func:`series_key` was written from, as text."""
    return list(json.loads(key))


def given_actuals(feedback: pd.DataFrame) -> pd.Series:
    """What came back for each feedback row: the label when it was sent as text, else the number (the store
    keeps one or the other)."""
    return feedback["actual_label"].astype(object).where(feedback["actual_label"].notna(), feedback["actual"])


# what the log keeps of each prediction, as :meth:`PredictionLog.log_table` takes a batch of them
LOGGED_COLUMNS = (
    "request_id",
    "created_at",
    "model_name",
    "model_version",
    "source",
    "series_key",
    "event_time",
    "inputs",
    "output",
    "output_label",
    "explanation",
    "latency_ms",
    "warnings",
)

# what :meth:`PredictionLog.frame` reads of each prediction, in its order (``labelled`` adds the actuals)
FRAMED_COLUMNS = (
    "request_id",
    "created_at",
    "model_version",
    "series_key",
    "event_time",
    "output",
    "output_label",
    "latency_ms",
)


class LoggedPrediction(Protocol):
    """What the store needs of one prediction to log it (the serving layer's PredictionRecord is one)."""

    request_id: str
    model_name: str
    model_version: str
    inputs: dict[str, Any]
    output: float | None
    output_label: str | None
    explanation: dict[str, Any] | None
    latency_ms: float | None
    source: str
    series_key: str | None
    event_time: datetime | None
    created_at: datetime
    warnings: list[dict[str, Any]] | None


@dataclass(frozen=True)
class StoredPrediction:
    """One prediction's audit record as it was committed: it never changes afterwards."""

    request_id: str
    created_at: datetime
    model_name: str
    model_version: str
    source: str
    series_key: str | None
    event_time: datetime | None
    inputs: dict[str, Any]
    output: float | None
    output_label: str | None
    explanation: dict[str, Any] | None
    latency_ms: float | None
    warnings: list[dict[str, Any]] | None = None  # e.g. an input outside the range trained on


@dataclass(frozen=True)
class PredictionRef:
    """Where a prediction belongs — its series and time — without its inputs (what feedback by id needs)."""

    request_id: str
    series_key: str | None
    event_time: datetime | None
    model_version: str
    output: float | None


@dataclass(frozen=True)
class FeedbackItem:
    """One actual sent back: by the prediction's request id, or by series key and event time."""

    actual: Any
    request_id: str | None = None
    series_key: str | None = None
    event_time: datetime | None = None


@dataclass(frozen=True)
class ApiKey:
    """A key as listed: never its secret, which only its creator saw."""

    id: str
    scope: str
    note: str | None
    created_at: datetime
    revoked_at: datetime | None


class IssuedKey(NamedTuple):
    """A key just created: the secret is shown this once (``key_id, secret = keys.create(...)``)."""

    id: str
    secret: str


@dataclass(frozen=True)
class AlertEpisode:
    """One alert from the moment a rule fired on a subject until it cleared (``closed_at`` None while open)."""

    id: int
    rule: str
    subject: str
    opened_at: datetime
    closed_at: datetime | None
    value: float | None
    threshold: float | None
    message: str


@dataclass(frozen=True)
class QueuedAlert:
    """An alert event a sink did not take, kept until it does: ``attempts`` so far and the ``last_error``."""

    id: int
    sink: str
    event: dict[str, Any]
    queued_at: datetime
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class StoredWindow:
    """One monitoring window's result. ``details`` holds the drift rows, the three views and the window's
    alert conditions; ``id`` is None until stored."""

    start: datetime
    end: datetime
    computed_at: datetime
    model_version: str | None
    predictions: int
    labelled: int
    metric: str | None
    metric_value: float | None
    baseline_metric_value: float | None
    realised_value: float | None
    estimated_value: float | None
    validated_value: float | None
    latency_p95_ms: float | None
    error_rate: float | None
    drifted: int
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(frozen=True)
class StoredReview:
    """A review's verdict, its reasons and figures, and — once acted on — what was done (retrain, rollback,
    retire) with its detail (runs, versions)."""

    id: int
    at: datetime
    verdict: str
    model_version: str | None
    reasons: list[str]
    numbers: dict[str, Any]
    action: str | None = None
    action_at: datetime | None = None
    action_detail: dict[str, Any] | None = None


@dataclass(frozen=True)
class StoredAction:
    """One action somebody took on the use case (from the dashboard or a command): who, what, and how it
    ended — the audit trail of retrain, rollback, retire and promote. ``outcome`` is ``started``,
    ``done`` or ``failed``; ``detail`` holds the action's arguments and, once ended, its result or error."""

    id: int
    at: datetime
    actor: str
    action: str
    outcome: str
    detail: dict[str, Any]
    ended_at: datetime | None = None


@dataclass(frozen=True)
class SpendEntry:
    """One cost of building or keeping the model: ``kind`` ``compute`` (``quantity`` in minutes: a search, a
    promotion, a retrain, measured on the clock) or ``team`` (``quantity`` in days, from ``mlcycle log-work``),
    with its ``cost`` priced when it was recorded (``requirements.budget``)."""

    id: int
    at: datetime
    kind: str
    what: str
    quantity: float
    cost: float
    actor: str
    note: str = ""
    run_id: str | None = None


__all__ = [
    "FRAMED_COLUMNS",
    "LOGGED_COLUMNS",
    "SCOPES",
    "AlertEpisode",
    "ApiKey",
    "FeedbackItem",
    "IssuedKey",
    "LoggedPrediction",
    "PredictionRef",
    "QueuedAlert",
    "SpendEntry",
    "StoredAction",
    "StoredPrediction",
    "StoredReview",
    "StoredWindow",
    "given_actuals",
    "series_key",
    "series_values",
    "utcnow",
]
