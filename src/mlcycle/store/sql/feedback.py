"""The feedback log on SQL: one row per actual, unique per request id and per (series, event time).

A repeated or corrected actual is an upsert on that unique key (``INSERT … ON CONFLICT DO
UPDATE`` on both SQLite and PostgreSQL), which is what makes :meth:`add` idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from mlcycle.store._base import FeedbackLog
from mlcycle.store.records import FeedbackItem, utcnow
from mlcycle.store.sql.engine import insert_for
from mlcycle.store.sql.predictions import known_ids
from mlcycle.store.sql.tables import feedback


class SqlFeedbackLog(FeedbackLog):
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def add(self, items: Sequence[FeedbackItem]) -> list[str]:
        by_id = [i.request_id for i in items if i.request_id]
        now = utcnow()
        with self.engine.begin() as connection:
            known = known_ids(connection, by_id)
            unknown = [i for i in by_id if i not in known]
            if unknown:
                return unknown
            for item in items:
                number, label = _actual(item.actual)
                row = {"actual": number, "actual_label": label, "received_at": now}
                if item.request_id:
                    self._upsert(connection, {**row, "request_id": item.request_id}, ["request_id"])
                else:
                    self._upsert(
                        connection,
                        {**row, "series_key": item.series_key, "event_time": item.event_time},
                        ["series_key", "event_time"],
                    )
        return []

    def _upsert(self, connection: sa.Connection, row: dict[str, Any], keys: list[str]) -> None:
        statement = insert_for(self.engine)(feedback).values(**row)
        update = {k: statement.excluded[k] for k in ("actual", "actual_label", "received_at")}
        connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=update))

    def since(self, last_id: int) -> pd.DataFrame:
        with self.engine.connect() as connection:
            query = sa.select(feedback).where(feedback.c.id > last_id).order_by(feedback.c.id)
            return pd.read_sql_query(query, connection)

    def frame(self) -> pd.DataFrame:
        with self.engine.connect() as connection:
            return pd.read_sql_query(sa.select(feedback).order_by(feedback.c.id), connection)


def _actual(value: Any) -> tuple[float | None, str | None]:
    """An actual as (number, label): a boolean is both, a number only a number, text that is no number a label."""
    if isinstance(value, bool):
        return float(value), str(value)
    if isinstance(value, (int, float)):
        return float(value), None
    try:
        return float(value), None
    except (TypeError, ValueError):
        return None, str(value)
