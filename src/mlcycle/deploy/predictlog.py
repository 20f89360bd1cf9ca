"""The prediction log: every prediction in the store before its response is sent, with group commit.

A single writer thread owns the commits. When idle it commits a submission at once; whatever
queues while a commit is in flight goes into the next transaction together. So a lone
request waits for one commit, and many concurrent requests share one — logging costs little
under load and nothing is acknowledged before it is durable.

If a group fails (say, one record repeats a request id), each submission in it is retried on
its own, so one bad record fails only its own request.

When the store cannot take the records (a disk full, a file made read-only, a database stopped),
:meth:`PredictionLog.awrite` says so by design: with ``compliance.audit_log`` (``required``) it
raises :class:`~mlcycle.exceptions.RequestRejected` 503 with ``Retry-After`` — the prediction is
never sent without its record; without it, the answer goes out and ``on_unlogged`` is told how many
records were lost (the service counts them in ``/metrics``). Either way :attr:`state` says what the
last write found, ``/health`` shows it, and the next write (or :meth:`probe`, which the service's
poller calls while the store is down) finds out when the store is back: nothing to restart, and
nothing written twice — a failed transaction wrote nothing, and it is not retried later.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlcycle.exceptions import RequestRejected
from mlcycle.store import Store, utcnow

RETRY_AFTER_SECONDS = 5  # what a refused client is told to wait: about two polls of the store


def unavailable(message: str) -> RequestRejected:
    """The service's refusal while the store is down: 503, and when to try again."""
    return RequestRejected(
        503, f"{message}. Retry after {RETRY_AFTER_SECONDS} s", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


@dataclass(frozen=True)
class StoreState:
    """What the last write to the store found: ``ok``, or ``unavailable`` since when and why."""

    ok: bool
    since: datetime
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"state": "ok" if self.ok else "unavailable"}
        if not self.ok:
            shown |= {"since": self.since.isoformat(timespec="seconds") + "Z", "error": self.error}
        return shown


@dataclass
class PredictionRecord:
    """One prediction as the audit log keeps it: inputs, model version, output, explanation, latency."""

    request_id: str
    model_name: str
    model_version: str
    inputs: dict[str, Any]
    output: float | None = None
    output_label: str | None = None
    explanation: dict[str, Any] | None = None
    latency_ms: float | None = None
    source: str = "online"
    series_key: str | None = None
    event_time: datetime | None = None
    created_at: datetime = field(default_factory=utcnow)
    warnings: list[dict[str, Any]] | None = None


class PredictionLog:
    def __init__(
        self, store: Store, *, required: bool = True, on_unlogged: Callable[[int], object] | None = None
    ) -> None:
        self.store = store
        self.required = required  # compliance.audit_log: no answer without its record
        self.on_unlogged = on_unlogged  # told how many records went unlogged (the service's metrics)
        self.state = StoreState(True, utcnow())
        self._pending: list[tuple[list[PredictionRecord], Future[None]]] = []
        self._condition = threading.Condition()
        self._closing = False
        self.commits = 0  # transactions committed (to see group commit at work)
        self.records = 0  # records committed
        self._thread = threading.Thread(target=self._run, name="mlcycle-prediction-log", daemon=True)
        self._thread.start()

    def submit(self, records: list[PredictionRecord]) -> Future[None]:
        future: Future[None] = Future()
        with self._condition:
            if self._closing:
                future.set_exception(RuntimeError("the prediction log is closed"))
                return future
            self._pending.append((records, future))
            self._condition.notify()
        return future

    def write(self, records: list[PredictionRecord]) -> None:
        """Block until the records are committed (raises what the store raised)."""
        self.submit(records).result()

    async def awrite(self, records: list[PredictionRecord]) -> None:
        """Wait for the commit without blocking the event loop. If the store cannot take the records: 503 with
        Retry-After when the log is required, else tell ``on_unlogged`` how many and return."""
        try:
            await asyncio.wrap_future(self.submit(records))
        except Exception as exc:  # whatever the driver raised: the records are not stored
            if self.required:
                raise unavailable(
                    "the prediction could not be written to the audit log (compliance.audit_log is on), so it is "
                    f"not answered: {short_error(exc)}"
                ) from None
            if self.on_unlogged is not None:
                self.on_unlogged(len(records))

    def probe(self) -> StoreState:
        """Try a write that leaves nothing behind, and update :attr:`state` (the poller calls it while down)."""
        try:
            self.store.probe()
        except Exception as exc:  # whatever the driver raised: still down
            self._failed(exc)
        else:
            self.state = StoreState(True, utcnow()) if not self.state.ok else self.state
        return self.state

    def _failed(self, exc: BaseException) -> None:
        since = self.state.since if not self.state.ok else utcnow()
        self.state = StoreState(False, since, short_error(exc))

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._pending and not self._closing:
                    self._condition.wait()
                if not self._pending and self._closing:
                    return
                group, self._pending = self._pending, []
            self._commit(group)

    def _commit(self, group: list[tuple[list[PredictionRecord], Future[None]]]) -> None:
        try:
            self.store.predictions.log([r for records, _ in group for r in records])
            self.commits += 1
            self.records += sum(len(records) for records, _ in group)
            if not self.state.ok:
                self.state = StoreState(True, utcnow())
            for _, future in group:
                future.set_result(None)
        except Exception as exc:
            if len(group) == 1:
                if not _integrity(exc):
                    self._failed(exc)
                group[0][1].set_exception(exc)
                return
            for item in group:  # one bad submission must not fail its neighbours
                self._commit([item])

    def close(self) -> None:
        """Commit what is queued, then stop the writer (called on shutdown, after requests drain)."""
        with self._condition:
            self._closing = True
            self._condition.notify()
        self._thread.join(timeout=30)


def _integrity(exc: BaseException) -> bool:
    """A record the store refused by its rules (a repeated request id): the store itself is fine. Named, not
    imported: SQLAlchemy's, sqlite3's and psycopg's (``UniqueViolation`` is one) all say IntegrityError."""
    return any(kind.__name__ == "IntegrityError" for kind in type(exc).__mro__)


def short_error(exc: BaseException) -> str:
    """The driver's own words, first line only: no SQL statement, no parameters (they hold the inputs)."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
