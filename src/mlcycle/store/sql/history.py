"""The monitoring history on SQL: windows (unique per start), alert episodes, reviews, use-case status."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mlcycle.exceptions import StoreError
from mlcycle.store._base import MonitoringHistory
from mlcycle.store.records import (
    AlertEpisode,
    QueuedAlert,
    SpendEntry,
    StoredAction,
    StoredReview,
    StoredWindow,
    utcnow,
)
from mlcycle.store.sql.encoding import dumps, loads
from mlcycle.store.sql.engine import insert_for
from mlcycle.store.sql.tables import actions, alert_outbox, alerts, reviews, spend, status, windows

_WINDOW_COLUMNS = [f.name for f in dataclasses.fields(StoredWindow) if f.name not in ("id", "details")]


class SqlMonitoringHistory(MonitoringHistory):
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # ── windows ──────────────────────────────────────────────────────────────────────
    def save_window(self, window: StoredWindow) -> None:
        row = {name: getattr(window, name) for name in _WINDOW_COLUMNS} | {"details": dumps(window.details)}
        statement = insert_for(self.engine)(windows).values(**row)
        replaced = {name: statement.excluded[name] for name in row if name != "start"}
        with self.engine.begin() as connection:
            connection.execute(statement.on_conflict_do_update(index_elements=["start"], set_=replaced))

    def windows(self, *, last: int | None = None) -> list[StoredWindow]:
        query = sa.select(windows).order_by(windows.c.end.desc(), windows.c.id.desc())
        if last is not None:
            query = query.limit(last)
        with self.engine.connect() as connection:
            rows = list(connection.execute(query).mappings())
        return [
            StoredWindow(**{name: r[name] for name in _WINDOW_COLUMNS}, details=loads(r["details"]) or {}, id=r["id"])
            for r in reversed(rows)
        ]

    # ── alert episodes ───────────────────────────────────────────────────────────────
    def open_alert(
        self,
        rule: str,
        subject: str,
        value: float | None,
        threshold: float | None,
        message: str,
        when: datetime | None = None,
    ) -> bool:
        statement = insert_for(self.engine)(alerts).values(
            rule=rule, subject=subject, opened_at=when or utcnow(), value=value, threshold=threshold, message=message
        )
        statement = statement.on_conflict_do_nothing(
            index_elements=["rule", "subject"], index_where=alerts.c.closed_at.is_(None)
        ).returning(alerts.c.id)  # a row back when it opened (rowcount is -1 with psycopg's RETURNING)
        with self.engine.begin() as connection:
            return connection.execute(statement).first() is not None

    def close_alert(self, rule: str, subject: str, when: datetime | None = None) -> bool:
        with self.engine.begin() as connection:
            done = connection.execute(
                alerts.update()
                .where(alerts.c.rule == rule, alerts.c.subject == subject, alerts.c.closed_at.is_(None))
                .values(closed_at=when or utcnow())
            )
            return bool(done.rowcount)

    def open_alerts(self) -> list[AlertEpisode]:
        return self._episodes(alerts.c.closed_at.is_(None), alerts.c.opened_at)

    def alerts(self) -> list[AlertEpisode]:
        return self._episodes(sa.true(), alerts.c.id)

    def _episodes(self, condition: Any, order: Any) -> list[AlertEpisode]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(alerts).where(condition).order_by(order)).mappings()
            return [AlertEpisode(**r) for r in rows]

    # ── alerts a sink did not take ───────────────────────────────────────────────────
    def queue_alert(self, sink: str, event: dict[str, Any], error: str) -> int:
        row = {"sink": sink, "event": dumps(event), "queued_at": utcnow(), "attempts": 1, "last_error": error}
        with self.engine.begin() as connection:
            return int(
                connection.execute(alert_outbox.insert().values(**row).returning(alert_outbox.c.id)).scalar_one()
            )

    def queued_alerts(self, sink: str | None = None) -> list[QueuedAlert]:
        query = sa.select(alert_outbox).order_by(alert_outbox.c.id)
        if sink is not None:
            query = query.where(alert_outbox.c.sink == sink)
        with self.engine.connect() as connection:
            rows = list(connection.execute(query).mappings())
        return [QueuedAlert(**{**r, "event": loads(r["event"])}) for r in rows]

    def alert_sent(self, queued_id: int, error: str | None = None) -> None:
        mine = alert_outbox.c.id == queued_id
        with self.engine.begin() as connection:
            if error is None:
                connection.execute(alert_outbox.delete().where(mine))
            else:
                connection.execute(
                    alert_outbox.update().where(mine).values(attempts=alert_outbox.c.attempts + 1, last_error=error)
                )

    # ── reviews ──────────────────────────────────────────────────────────────────────
    def add_review(
        self,
        verdict: str,
        model_version: str | None,
        reasons: list[str],
        numbers: dict[str, Any],
        when: datetime | None = None,
    ) -> int:
        with self.engine.begin() as connection:
            done = connection.execute(
                reviews.insert().values(
                    at=when or utcnow(),
                    verdict=verdict,
                    model_version=model_version,
                    reasons=dumps(reasons),
                    numbers=dumps(numbers),
                )
            )
            assert done.inserted_primary_key is not None
            return int(done.inserted_primary_key[0])

    def reviews(self) -> list[StoredReview]:
        return self._reviews(sa.true())

    def review(self, review_id: int) -> StoredReview | None:
        found = self._reviews(reviews.c.id == review_id)
        return found[0] if found else None

    def _reviews(self, condition: Any) -> list[StoredReview]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(reviews).where(condition).order_by(reviews.c.id)).mappings()
            return [_review(r) for r in rows]

    def record_action(self, review_id: int, action: str, detail: dict[str, Any]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                reviews.update()
                .where(reviews.c.id == review_id)
                .values(action=action, action_at=utcnow(), action_detail=dumps(detail))
            )

    # ── who did what ─────────────────────────────────────────────────────────────────
    def start_action(self, actor: str, action: str, detail: dict[str, Any]) -> int:
        with self.engine.begin() as connection:
            done = connection.execute(
                actions.insert().values(
                    at=utcnow(), actor=actor, action=action, outcome="started", detail=dumps(detail)
                )
            )
            assert done.inserted_primary_key is not None
            return int(done.inserted_primary_key[0])

    def end_action(self, action_id: int, outcome: str, detail: dict[str, Any]) -> None:
        if outcome not in ("done", "failed"):
            raise StoreError(f"an action ends 'done' or 'failed', not {outcome!r}")
        with self.engine.begin() as connection:
            row = connection.execute(sa.select(actions.c.detail).where(actions.c.id == action_id)).first()
            if row is None:
                raise StoreError(f"no action {action_id} is recorded; start it with start_action first")
            merged = {**(loads(row[0]) or {}), **detail}
            connection.execute(
                actions.update()
                .where(actions.c.id == action_id)
                .values(outcome=outcome, detail=dumps(merged), ended_at=utcnow())
            )

    def actions(self, *, last: int | None = None) -> list[StoredAction]:
        query = sa.select(actions).order_by(actions.c.id.desc())
        if last is not None:
            query = query.limit(last)
        with self.engine.connect() as connection:
            rows = list(connection.execute(query).mappings())
        return [
            StoredAction(
                r["id"], r["at"], r["actor"], r["action"], r["outcome"], loads(r["detail"]) or {}, r["ended_at"]
            )
            for r in reversed(rows)
        ]

    # ── what it cost ─────────────────────────────────────────────────────────────────
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
        if kind not in ("compute", "team"):
            raise StoreError(f"spend is 'compute' or 'team', not {kind!r}")
        if not (quantity >= 0 and cost >= 0):
            raise StoreError(
                f"spend cannot be negative (quantity {quantity}, cost {cost}); record a correction as its own "
                "entry with a note"
            )
        with self.engine.begin() as connection:
            done = connection.execute(
                spend.insert().values(
                    at=utcnow(),
                    kind=kind,
                    what=what[:32],
                    quantity=float(quantity),
                    cost=float(cost),
                    actor=actor[:128],
                    note=note,
                    run_id=run_id,
                )
            )
            assert done.inserted_primary_key is not None
            return int(done.inserted_primary_key[0])

    def spend(self) -> list[SpendEntry]:
        with self.engine.connect() as connection:
            rows = list(connection.execute(sa.select(spend).order_by(spend.c.id)).mappings())
        return [
            SpendEntry(
                r["id"], r["at"], r["kind"], r["what"], r["quantity"], r["cost"], r["actor"], r["note"], r["run_id"]
            )
            for r in rows
        ]

    # ── use-case status ──────────────────────────────────────────────────────────────
    def set_status(self, key: str, value: dict[str, Any] | None) -> None:
        with self.engine.begin() as connection:
            connection.execute(status.delete().where(status.c.key == key))
            if value is not None:
                connection.execute(status.insert().values(key=key, value=dumps(value), updated_at=utcnow()))

    def get_status(self, key: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            raw = connection.execute(sa.select(status.c.value).where(status.c.key == key)).scalar_one_or_none()
        return loads(raw)


def _review(row: sa.RowMapping) -> StoredReview:
    return StoredReview(
        id=row["id"],
        at=row["at"],
        verdict=row["verdict"],
        model_version=row["model_version"],
        reasons=loads(row["reasons"]),
        numbers=loads(row["numbers"]),
        action=row["action"],
        action_at=row["action_at"],
        action_detail=loads(row["action_detail"]),
    )
