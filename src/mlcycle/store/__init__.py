"""The monitoring store: predictions, feedback, API keys and the monitoring history.

The contract every backend keeps — what is atomic, idempotent, safe from several processes,
and what each method raises — is written in :mod:`mlcycle.store._base`; the records it
returns are in :mod:`mlcycle.store.records`. The backend is chosen by value, not code: no
setting → SQLite in WAL mode at ``.mlcycle/monitor.db``; ``MLCYCLE_STORE_URL=postgresql+psycopg://…``
→ PostgreSQL, which several service replicas can share.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlcycle.store._base import FeedbackLog, KeyRing, MonitoringHistory, PredictionLog, Store, TimeBasis
from mlcycle.store.records import (
    FRAMED_COLUMNS,
    LOGGED_COLUMNS,
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
    given_actuals,
    series_key,
    series_values,
    utcnow,
)

STORE_ENV = "MLCYCLE_STORE_URL"


def store_url(state_dir: Path) -> str:
    return os.environ.get(STORE_ENV) or f"sqlite:///{(state_dir / 'monitor.db').resolve()}"


def open_store(state_dir: Path, url: str | None = None, *, migrate: bool = True) -> Store:
    """The use case's store (``MLCYCLE_STORE_URL`` or SQLite in the state folder).

    Opening is cheap: the process's engine for the address is reused, and the schema is brought
    to the latest version only the first time this process opens the address (``migrate=False``
    skips even that, for service workers whose parent migrated before starting them).
    """
    from mlcycle.store.sql import SqlStore

    state_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(url or store_url(state_dir))
    if migrate:
        store.migrate_once()
    return store


__all__ = [
    "FRAMED_COLUMNS",
    "LOGGED_COLUMNS",
    "STORE_ENV",
    "AlertEpisode",
    "ApiKey",
    "FeedbackItem",
    "FeedbackLog",
    "IssuedKey",
    "KeyRing",
    "LoggedPrediction",
    "MonitoringHistory",
    "PredictionLog",
    "PredictionRef",
    "QueuedAlert",
    "SpendEntry",
    "Store",
    "StoredAction",
    "StoredPrediction",
    "StoredReview",
    "StoredWindow",
    "TimeBasis",
    "given_actuals",
    "open_store",
    "series_key",
    "series_values",
    "store_url",
    "utcnow",
]
