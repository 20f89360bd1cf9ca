"""The monitoring store's contract: four aggregates, what each promises, and what each raises.

A store is four parts that change for different reasons and are read by different people:

- :class:`PredictionLog` — every prediction with its audit record, and the requests that failed;
- :class:`FeedbackLog` — the actuals that came back;
- :class:`KeyRing` — the service's API keys;
- :class:`MonitoringHistory` — monitoring windows, alert episodes, reviews and use-case status.

:class:`Store` holds one of each. Backends implement the four interfaces; ``tests/store/`` is the
suite every backend must pass. Today there is one backend, SQL through SQLAlchemy
(:mod:`mlcycle.store.sql`), on two databases: SQLite (embedded, the default) and PostgreSQL
(shared by service replicas).

Promises every backend keeps
----------------------------
Concurrency
    Every method may be called from several threads of one process at once (a service's request
    handlers and its log writer share one store) and from several processes on the same store
    (service workers, replicas, ``mlcycle monitor`` beside a running service). One engine — one
    connection pool — serves the whole process per store address.

Atomicity
    Each writing method is one transaction: it is committed whole or not at all. A committed
    transaction survives the process being killed (SQLite: WAL with ``synchronous=NORMAL``;
    PostgreSQL: its own durability). Nothing is cached between calls: a read sees every
    transaction committed before it began, by any process.

Immutability
    A prediction, once committed, never changes; only retention
    (:meth:`PredictionLog.prune`) deletes it, and never while its model version is kept.

Idempotence
    Stated per method: ``feedback.add`` and ``history.save_window`` may be repeated with the
    same arguments — by one process or by two at once — and leave the store as one call would;
    ``history.open_alert`` opens at most one episode per rule and subject, whoever calls it;
    ``predictions.log`` is *not* idempotent — a request id logged twice is refused.
    :meth:`Store.exclusive` gives a job (a monitoring run) the store to itself, for what rows
    alone cannot keep: the order in which windows open and close episodes.

Errors
    A store that cannot be reached, or a request the caller can correct, raises
    :class:`~mlcycle.exceptions.StoreError` with a message that names the store and the fix.
    A write that breaks an integrity rule (a repeated request id) raises the database
    driver's integrity error and writes nothing — the prediction log relies on that to retry
    the other records of a group on their own.

Time
    Every time is naive UTC (:func:`~mlcycle.store.records.utcnow`).
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Literal

import pandas as pd

from mlcycle.store.records import (
    AlertEpisode,
    ApiKey,
    FeedbackItem,
    IssuedKey,
    LoggedPrediction,
    PredictionRef,
    QueuedAlert,
    SpendEntry,
    StoredAction,
    StoredPrediction,
    StoredReview,
    StoredWindow,
    utcnow,
)

TimeBasis = Literal["created", "event"]


class PredictionLog(abc.ABC):
    """Predictions with their audit record (inputs, output, explanation, latency) and the failed requests."""

    @abc.abstractmethod
    def log(self, records: Sequence[LoggedPrediction]) -> None:
        """Write a batch, inputs included, in one transaction: all of it or none of it.

        Raises the driver's integrity error when a request id is already logged (nothing is
        written then), :class:`StoreError` when the store cannot be reached.
        """

    @abc.abstractmethod
    def log_table(self, table: pd.DataFrame) -> None:
        """:meth:`log` for a batch held as columns — batch scoring's path, with no object per row.

        ``table`` has the columns of :data:`~mlcycle.store.records.LOGGED_COLUMNS`; ``inputs`` is each row's
        JSON document, ``explanation`` and ``warnings`` JSON or None. The same promises as :meth:`log`: one
        transaction, all or none, the same integrity error for a repeated request id.
        """

    @abc.abstractmethod
    def get(self, request_id: str) -> StoredPrediction | None:
        """The prediction logged under ``request_id``, or None."""

    @abc.abstractmethod
    def recent(
        self, limit: int = 50, offset: int = 0, *, model_version: str | None = None, source: str | None = None
    ) -> list[StoredPrediction]:
        """A page of predictions, newest first (by when they were made): what the dashboard's decisions table
        shows. Filters by model version and source (``online`` / ``batch``) when given."""

    @abc.abstractmethod
    def count(self, model_version: str | None = None) -> int:
        """How many predictions are logged (of one model version when given)."""

    @abc.abstractmethod
    def ids(self) -> set[str]:
        """Every logged request id (for audits and tests of small stores; monitoring never calls it)."""

    @abc.abstractmethod
    def refs(self, request_ids: list[str]) -> list[PredictionRef]:
        """Series, event time, version and output of the given predictions; unknown ids are left out."""

    @abc.abstractmethod
    def frame(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        chunk_rows: int = 200_000,
        *,
        by: TimeBasis = "created",
    ) -> Iterator[pd.DataFrame]:
        """Predictions with a time in ``[since, until)``, oldest first, in chunks of ``chunk_rows``.

        ``by="created"`` windows on when a prediction was made; ``by="event"`` on the time it is
        *for* (its event time, else when it was made) — how monitoring windows a forecast. Columns:
        request_id, created_at, model_version, series_key, event_time, output, output_label,
        latency_ms. Raises :class:`UsageError` for another ``by``.
        """

    @abc.abstractmethod
    def labelled(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        chunk_rows: int = 200_000,
        *,
        by: TimeBasis = "created",
        only_labelled: bool = False,
    ) -> Iterator[pd.DataFrame]:
        """:meth:`frame` with the actual that came back for each prediction, joined in the store: the feedback
        sent with its request id, else the one sent for its series and event time. Two more columns, as the
        feedback keeps them: ``actual`` (a number) and ``actual_label`` (text), both null while nothing came
        back. ``only_labelled`` leaves out the predictions without one. Memory is one chunk, however long the log
        (monitoring a window never reads the whole feedback table)."""

    @abc.abstractmethod
    def span(self, by: TimeBasis = "event") -> tuple[datetime | None, datetime | None]:
        """The first and last time of the logged predictions, (None, None) when there are none."""

    @abc.abstractmethod
    def inputs(self, request_ids: list[str]) -> pd.DataFrame:
        """The inputs of the given predictions as one wide frame indexed by request id (empty for none)."""

    @abc.abstractmethod
    def usage(self, since: datetime) -> tuple[int, float, datetime | None]:
        """(predictions made, their scoring time in ms added up, when the first of them was made) since
        ``since``: one aggregate in the store, however many predictions that is."""

    @abc.abstractmethod
    def log_errors(self, rows: list[tuple[datetime, str, int]]) -> None:
        """Record failed scoring requests as (when, route, HTTP status), in one transaction."""

    @abc.abstractmethod
    def request_counts(self, since: datetime | None, until: datetime | None) -> tuple[int, int]:
        """(predictions made, scoring requests failed) with a creation time in ``[since, until)``."""

    @abc.abstractmethod
    def prune(self, older_than: datetime, *, keep_versions: set[str] | None = None) -> int:
        """Delete predictions created before ``older_than``, their inputs with them, in one transaction;
        returns how many. Predictions of ``keep_versions`` are kept whatever their age."""


class FeedbackLog(abc.ABC):
    """Actuals, by request id or by series key and event time."""

    @abc.abstractmethod
    def add(self, items: Sequence[FeedbackItem]) -> list[str]:
        """Store actuals in one transaction; returns the request ids that match no prediction.

        When any id is unknown nothing at all is stored, so a caller can correct and resend the
        whole batch. Idempotent: the same actual sent twice is stored once; a different actual for
        the same prediction (or series and time) replaces the first.
        """

    @abc.abstractmethod
    def since(self, last_id: int) -> pd.DataFrame:
        """Feedback rows with an id above ``last_id``, oldest first — how a service worker follows what its
        neighbours received. Columns: id, request_id, series_key, event_time, actual, actual_label,
        received_at."""

    @abc.abstractmethod
    def frame(self) -> pd.DataFrame:
        """Every feedback row (the columns of :meth:`since`)."""


class KeyRing(abc.ABC):
    """The service's API keys. Only a SHA-256 hash of each secret is stored; the secret is shown once."""

    @abc.abstractmethod
    def create(self, scope: str, note: str | None = None) -> IssuedKey:
        """A new key of ``scope`` (view, predict, feedback or admin). Raises :class:`StoreError` for another scope."""

    @abc.abstractmethod
    def all(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""

    @abc.abstractmethod
    def revoke(self, key_id: str) -> None:
        """Revoke an active key. Raises :class:`StoreError` naming the active keys when ``key_id`` is not one."""

    @abc.abstractmethod
    def scope_of(self, secret: str) -> str | None:
        """The scope of an active key, or None for an unknown or revoked one."""

    @abc.abstractmethod
    def find(self, secret: str) -> ApiKey | None:
        """The active key a secret belongs to (to name who acted), or None for an unknown or revoked one."""

    @abc.abstractmethod
    def any_active(self, scope: str | None = None) -> bool:
        """Whether any key (of ``scope`` when given) is active — no key at all means an open service."""


class MonitoringHistory(abc.ABC):
    """What monitoring found and decided: windows, alert episodes, reviews and use-case-wide status."""

    @abc.abstractmethod
    def save_window(self, window: StoredWindow) -> None:
        """Store one window's result. Idempotent per start: a window computed again replaces the earlier one."""

    @abc.abstractmethod
    def windows(self, *, last: int | None = None) -> list[StoredWindow]:
        """Stored windows, oldest first (only the ``last`` ones when given)."""

    @abc.abstractmethod
    def open_alert(
        self,
        rule: str,
        subject: str,
        value: float | None,
        threshold: float | None,
        message: str,
        when: datetime | None = None,
    ) -> bool:
        """Open an episode unless one is open for (rule, subject); True when a new one opened.

        Atomic across processes: of two monitoring runs that open the same episode at once, one gets
        True and the other False — the database's unique index decides, not a read before the write.
        """

    @abc.abstractmethod
    def close_alert(self, rule: str, subject: str, when: datetime | None = None) -> bool:
        """Close the open episode of (rule, subject); True when one was open."""

    @abc.abstractmethod
    def open_alerts(self) -> list[AlertEpisode]:
        """Episodes still open, oldest first."""

    @abc.abstractmethod
    def alerts(self) -> list[AlertEpisode]:
        """Every episode, open or closed, in the order they opened."""

    @abc.abstractmethod
    def queue_alert(self, sink: str, event: dict[str, Any], error: str) -> int:
        """Keep an alert event that ``sink`` did not take (``error`` says why), to send again later; returns its id."""

    @abc.abstractmethod
    def queued_alerts(self, sink: str | None = None) -> list[QueuedAlert]:
        """Alerts still waiting for a sink (``sink`` only when given), oldest first."""

    @abc.abstractmethod
    def alert_sent(self, queued_id: int, error: str | None = None) -> None:
        """The outcome of sending a queued alert again: delivered (``error`` None) removes it; otherwise its
        attempts grow by one and ``error`` is kept. An unknown id (another run delivered it) is no error."""

    @abc.abstractmethod
    def add_review(
        self,
        verdict: str,
        model_version: str | None,
        reasons: list[str],
        numbers: dict[str, Any],
        when: datetime | None = None,
    ) -> int:
        """Store a verdict with its reasons and figures; returns its id."""

    @abc.abstractmethod
    def reviews(self) -> list[StoredReview]:
        """Every review, oldest first."""

    @abc.abstractmethod
    def review(self, review_id: int) -> StoredReview | None:
        """One review, or None."""

    @abc.abstractmethod
    def record_action(self, review_id: int, action: str, detail: dict[str, Any]) -> None:
        """Note on a review what was done about it (the audit link review → retrain → promotion)."""

    @abc.abstractmethod
    def start_action(self, actor: str, action: str, detail: dict[str, Any]) -> int:
        """Record that ``actor`` started ``action`` (retrain, rollback, retire, promote) with its arguments,
        before it runs — so an action that crashes midway is still on the record. Returns its id."""

    @abc.abstractmethod
    def end_action(self, action_id: int, outcome: str, detail: dict[str, Any]) -> None:
        """Record how an action ended: ``outcome`` ``done`` or ``failed``, ``detail`` merged into its own (the
        result or the error). Raises :class:`StoreError` for an unknown id or another outcome."""

    @abc.abstractmethod
    def actions(self, *, last: int | None = None) -> list[StoredAction]:
        """The actions taken, oldest first (only the ``last`` ones when given)."""

    @abc.abstractmethod
    def add_spend(
        self,
        kind: str,
        what: str,
        quantity: float,
        cost: float,
        actor: str,
        *,
        note: str = "",
        run_id: str | None = None,
    ) -> int:
        """Record one cost (see :class:`~mlcycle.store.records.SpendEntry`); returns its id. ``kind`` is
        ``compute`` or ``team``; a negative quantity or cost raises :class:`StoreError` (a correction is a note
        on a new entry, not a subtraction the audit cannot follow)."""

    @abc.abstractmethod
    def spend(self) -> list[SpendEntry]:
        """Every cost recorded, oldest first."""

    @abc.abstractmethod
    def set_status(self, key: str, value: dict[str, Any] | None) -> None:
        """Set (or, with None, clear) one piece of use-case-wide state, e.g. ``retired``; idempotent."""

    @abc.abstractmethod
    def get_status(self, key: str) -> dict[str, Any] | None:
        """The state set under ``key``, or None."""


class Store(abc.ABC):
    """One use case's monitoring store: its four aggregates, and the schema they live in."""

    predictions: PredictionLog
    feedback: FeedbackLog
    keys: KeyRing
    history: MonitoringHistory

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """Where the store lives (password hidden), for messages."""

    @abc.abstractmethod
    def migrate(self) -> None:
        """Bring the store to the latest schema. Idempotent; :func:`~mlcycle.store.open_store` runs it once
        per process and address, before anything reads or writes."""

    @abc.abstractmethod
    def close(self) -> None:
        """Let go of open connections (the store stays usable: the next call opens new ones)."""

    @abc.abstractmethod
    def exclusive(self, name: str, wait_seconds: float = 600) -> contextlib.AbstractContextManager[None]:
        """Hold the store-wide lock ``name`` while the block runs: one holder at a time, across processes and
        machines sharing the store (a monitoring run holds ``monitor``). Waits up to ``wait_seconds`` for the
        holder, then raises :class:`StoreError`. A holder that dies, however, releases it."""

    def probe(self) -> None:
        """Commit one small write — the ``heartbeat`` status row — to learn whether the store takes writes now.

        Raises what the backend raised when it does not (a full disk, a read-only file, a stopped
        server). The service calls it while its prediction log finds the store down, so it knows when
        to answer again; a read would not do, since a read-only store still reads.
        """
        self.history.set_status("heartbeat", {"at": utcnow().isoformat()})


__all__ = ["FeedbackLog", "KeyRing", "MonitoringHistory", "PredictionLog", "Store", "TimeBasis"]
