"""The monitoring store: predictions, feedback and API keys, on SQLAlchemy.

Chosen by value, not code: no setting → SQLite in WAL mode at ``.mlcycle/monitor.db``;
``MLCYCLE_STORE_URL=postgresql+psycopg://…`` → PostgreSQL, which several service replicas
can share. Migrations (Alembic, version table ``mlcycle_alembic_version`` so the store can
share a database with MLflow's tables) run once, before service workers start.
"""

from __future__ import annotations

from mlcycle.store.sql import (
    STORE_ENV,
    ApiKey,
    FeedbackItem,
    LoggedPrediction,
    Store,
    given_actuals,
    open_store,
    series_key,
    series_values,
    store_url,
    utcnow,
)

__all__ = [
    "STORE_ENV",
    "ApiKey",
    "FeedbackItem",
    "LoggedPrediction",
    "Store",
    "given_actuals",
    "open_store",
    "series_key",
    "series_values",
    "store_url",
    "utcnow",
]
