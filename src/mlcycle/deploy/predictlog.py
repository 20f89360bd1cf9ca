"""The prediction log: every prediction in the store before its response is sent, with group commit.

A single writer thread owns the commits. When idle it commits a submission at once; whatever
queues while a commit is in flight goes into the next transaction together. So a lone
request waits for one commit, and many concurrent requests share one — logging costs little
under load and nothing is acknowledged before it is durable.

If a group fails (say, one record repeats a request id), each submission in it is retried on
its own, so one bad record fails only its own request.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlcycle.store import Store, utcnow


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


class PredictionLog:
    def __init__(self, store: Store) -> None:
        self.store = store
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
        """Wait for the commit without blocking the event loop."""
        await asyncio.wrap_future(self.submit(records))

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
            for _, future in group:
                future.set_result(None)
        except Exception as exc:
            if len(group) == 1:
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
