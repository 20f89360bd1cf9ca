"""The SQL backend of the monitoring store (SQLAlchemy Core): SQLite embedded, PostgreSQL shared.

Tables are in :mod:`.tables` and change only through an Alembic migration (version table
``mlcycle_alembic_version``, so the store can share a database with MLflow's tables). Nothing
outside :mod:`mlcycle.store` reads or writes them (the import contract in pyproject.toml).
"""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from mlcycle.store._base import Store
from mlcycle.store.sql import engine as engines
from mlcycle.store.sql import lock
from mlcycle.store.sql.feedback import SqlFeedbackLog
from mlcycle.store.sql.history import SqlMonitoringHistory
from mlcycle.store.sql.keys import SqlKeyRing
from mlcycle.store.sql.predictions import SqlPredictionLog


class SqlStore(Store):
    """The four aggregates over this process's one engine for ``url``."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.dialect = engines.dialect_of(url)
        self.engine: sa.Engine = engines.engine_for(url)
        self.predictions = SqlPredictionLog(self.engine)
        self.feedback = SqlFeedbackLog(self.engine)
        self.keys = SqlKeyRing(self.engine)
        self.history = SqlMonitoringHistory(self.engine)

    @property
    def url(self) -> str:
        return engines.shown(self._url)

    def migrate(self) -> None:
        engines.migrate(self.engine)

    def migrate_once(self) -> None:
        engines.migrate_once(self._url)

    def close(self) -> None:
        self.engine.dispose()

    def exclusive(self, name: str, wait_seconds: float = 600) -> contextlib.AbstractContextManager[None]:
        return lock.held(self.engine, name, wait_seconds)


__all__ = ["SqlStore"]
