"""The monitoring store on SQLAlchemy: SQLite (embedded default) and PostgreSQL (shared by replicas).

Contract, for every backend:

- thread-safe: one Store is shared by a service's request handlers and its log writer;
- a prediction row, once committed, never changes; only retention deletes it, and never
  while its model version is still registered when the audit log is on;
- ``log_predictions`` writes a whole batch in one transaction — the prediction log's group
  commit relies on it — and a committed batch survives the process being killed
  (SQLite: WAL with ``synchronous=NORMAL``; PostgreSQL: its own durability);
- feedback is idempotent: the same actual sent twice is stored once, a corrected one
  replaces the first;
- API keys are stored as SHA-256 hashes only; the secret is shown once, at creation.

Errors the caller can act on raise :class:`~mlcycle.exceptions.StoreError`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import sqlalchemy as sa

from mlcycle.exceptions import StoreError, UsageError
from mlcycle.store.tables import (
    alerts,
    api_keys,
    feedback,
    prediction_inputs,
    predictions,
    request_errors,
    reviews,
    status,
    windows,
)

STORE_ENV = "MLCYCLE_STORE_URL"
VERSION_TABLE = "mlcycle_alembic_version"
SCOPES = ("predict", "feedback", "admin")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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


@dataclass
class FeedbackItem:
    actual: Any
    request_id: str | None = None
    series_key: str | None = None
    event_time: datetime | None = None


@dataclass
class ApiKey:
    id: str
    scope: str
    note: str | None
    created_at: datetime
    revoked_at: datetime | None


def series_key(values: Any) -> str:
    """How the store writes a series' identity (its group values, as text): one format for every writer."""
    return json.dumps([str(v) for v in values])


def given_actuals(feedback: pd.DataFrame) -> pd.Series:
    """What came back for each feedback row: the label when it was sent as text, else the number (the store
    keeps one or the other, see ``_actual``)."""
    return feedback["actual_label"].astype(object).where(feedback["actual_label"].notna(), feedback["actual"])


def series_values(key: str) -> list[str]:
    return list(json.loads(key))


def store_url(state_dir: Path) -> str:
    return os.environ.get(STORE_ENV) or f"sqlite:///{(state_dir / 'monitor.db').resolve()}"


def open_store(state_dir: Path, url: str | None = None, *, migrate: bool = True) -> Store:
    """The use case's store (``MLCYCLE_STORE_URL`` or SQLite in the state folder), migrated to the latest schema."""
    state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(url or store_url(state_dir))
    if migrate:
        store.migrate()
    return store


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return _plain(value.item())
    return str(value)


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = sa.engine.make_url(url).get_backend_name()
        if self.dialect == "postgresql":
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise StoreError("a PostgreSQL store needs its driver: pip install 'mlcycle[postgres]'") from None
        options: dict[str, Any] = {"pool_pre_ping": True}
        if self.dialect == "sqlite":
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine = sa.create_engine(url, **options)
        if self.dialect == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)

    # ── schema ───────────────────────────────────────────────────────────────────────
    def migrate(self) -> None:
        """Bring the store to the latest schema (idempotent; run once before workers start)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(resources.files("mlcycle.store") / "migrations"))
        config.attributes["version_table"] = VERSION_TABLE
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except sa.exc.OperationalError as exc:
            raise StoreError(f"cannot reach the monitoring store {self._shown}: {exc.orig}") from None

    @property
    def _shown(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    # ── predictions ──────────────────────────────────────────────────────────────────
    def log_predictions(self, records: Sequence[LoggedPrediction]) -> None:
        """Write a batch of predictions, inputs included, in one transaction."""
        if not records:
            return
        rows, values = [], []
        for r in records:
            inputs = {k: _plain(v) for k, v in r.inputs.items()}
            rows.append(
                {
                    "request_id": r.request_id,
                    "created_at": r.created_at,
                    "model_name": r.model_name,
                    "model_version": r.model_version,
                    "source": r.source,
                    "series_key": r.series_key,
                    "event_time": r.event_time,
                    "inputs": json.dumps(inputs),
                    "output": r.output,
                    "output_label": r.output_label,
                    "explanation": json.dumps(r.explanation) if r.explanation is not None else None,
                    "latency_ms": r.latency_ms,
                }
            )
            for name, value in inputs.items():
                number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
                values.append(
                    {
                        "request_id": r.request_id,
                        "name": name,
                        "number": number,
                        "text": None if number is not None or value is None else str(value)[:512],
                    }
                )
        with self.engine.begin() as connection:
            connection.execute(predictions.insert(), rows)
            if values:
                connection.execute(prediction_inputs.insert(), values)

    def prediction(self, request_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(sa.select(predictions).where(predictions.c.request_id == request_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        record = dict(row)
        record["inputs"] = json.loads(record["inputs"])
        record["explanation"] = json.loads(record["explanation"]) if record["explanation"] else None
        return record

    def count_predictions(self, model_version: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(predictions)
        if model_version is not None:
            query = query.where(predictions.c.model_version == model_version)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def request_ids(self) -> set[str]:
        with self.engine.connect() as connection:
            return {r[0] for r in connection.execute(sa.select(predictions.c.request_id))}

    def predictions_frame(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        chunk_rows: int = 200_000,
        *,
        by: str = "created",
    ) -> Iterator[pd.DataFrame]:
        """Predictions in a time window, in chunks, without parsing JSON.

        ``by="created"`` windows on when the prediction was made; ``by="event"`` on the time it is
        *for* (its event time, else when it was made) — how monitoring windows a forecast.
        """
        when = self._when(by)
        query = sa.select(
            predictions.c.request_id,
            predictions.c.created_at,
            predictions.c.model_version,
            predictions.c.series_key,
            predictions.c.event_time,
            predictions.c.output,
            predictions.c.output_label,
            predictions.c.latency_ms,
        )
        if since is not None:
            query = query.where(when >= since)
        if until is not None:
            query = query.where(when < until)
        with self.engine.connect() as connection:
            yield from pd.read_sql_query(query.order_by(when), connection, chunksize=chunk_rows)

    @staticmethod
    def _when(by: str) -> Any:
        if by == "created":
            return predictions.c.created_at
        if by == "event":
            return sa.func.coalesce(predictions.c.event_time, predictions.c.created_at)
        raise UsageError(f"by must be 'created' or 'event'. Got {by!r}")

    def prediction_span(self, by: str = "event") -> tuple[datetime | None, datetime | None]:
        """The first and last time of the logged predictions (None, None when there are none)."""
        when = self._when(by)
        with self.engine.connect() as connection:
            first, last = connection.execute(sa.select(sa.func.min(when), sa.func.max(when))).one()
        return _datetime(first), _datetime(last)

    # ── failed requests ──────────────────────────────────────────────────────────────
    def log_errors(self, rows: list[tuple[datetime, str, int]]) -> None:
        """Record failed scoring requests as (when, route, HTTP status)."""
        if rows:
            with self.engine.begin() as connection:
                connection.execute(
                    request_errors.insert(), [{"created_at": w, "route": r, "status": s} for w, r, s in rows]
                )

    def request_counts(self, since: datetime | None, until: datetime | None) -> tuple[int, int]:
        """(predictions made, scoring requests failed) between two times of creation."""

        def count(table: sa.Table) -> int:
            query = sa.select(sa.func.count()).select_from(table)
            if since is not None:
                query = query.where(table.c.created_at >= since)
            if until is not None:
                query = query.where(table.c.created_at < until)
            return int(connection.execute(query).scalar_one())

        with self.engine.connect() as connection:
            return count(predictions), count(request_errors)

    def inputs_frame(self, request_ids: list[str]) -> pd.DataFrame:
        """The inputs of some predictions as one wide frame (one row per request id)."""
        if not request_ids:
            return pd.DataFrame()
        parts = []
        with self.engine.connect() as connection:
            for start in range(0, len(request_ids), 5000):
                query = sa.select(prediction_inputs).where(
                    prediction_inputs.c.request_id.in_(request_ids[start : start + 5000])
                )
                parts.append(pd.read_sql_query(query, connection))
        long = pd.concat(parts, ignore_index=True)
        long["value"] = long["number"].astype(object).where(long["number"].notna(), long["text"])
        return long.pivot(index="request_id", columns="name", values="value")

    # ── feedback ─────────────────────────────────────────────────────────────────────
    def add_feedback(self, items: list[FeedbackItem]) -> list[str]:
        """Store actuals; returns the request ids that match no prediction (nothing is stored for them)."""
        by_id = [i for i in items if i.request_id]
        known = self._known_ids([i.request_id for i in by_id])  # type: ignore[misc]
        unknown = [i.request_id for i in by_id if i.request_id not in known]
        if unknown:
            return unknown  # type: ignore[return-value]
        now = utcnow()
        with self.engine.begin() as connection:
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

    def _known_ids(self, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        with self.engine.connect() as connection:
            query = sa.select(predictions.c.request_id).where(predictions.c.request_id.in_(ids))
            return {r[0] for r in connection.execute(query)}

    def _upsert(self, connection: sa.Connection, row: dict[str, Any], keys: list[str]) -> None:
        from sqlalchemy.dialects import postgresql, sqlite

        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        statement = insert(feedback).values(**row)
        update = {k: statement.excluded[k] for k in ("actual", "actual_label", "received_at")}
        connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=update))

    def feedback_since(self, last_id: int) -> pd.DataFrame:
        """Feedback rows with an id above ``last_id``, oldest first."""
        with self.engine.connect() as connection:
            query = sa.select(feedback).where(feedback.c.id > last_id).order_by(feedback.c.id)
            return pd.read_sql_query(query, connection)

    def predictions_by_id(self, request_ids: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        with self.engine.connect() as connection:
            for start in range(0, len(request_ids), 5000):
                query = sa.select(
                    predictions.c.request_id,
                    predictions.c.series_key,
                    predictions.c.event_time,
                    predictions.c.model_version,
                    predictions.c.output,
                ).where(predictions.c.request_id.in_(request_ids[start : start + 5000]))
                rows += [dict(r) for r in connection.execute(query).mappings()]
        return rows

    def feedback_frame(self) -> pd.DataFrame:
        with self.engine.connect() as connection:
            return pd.read_sql_query(sa.select(feedback), connection)

    # ── API keys ─────────────────────────────────────────────────────────────────────
    def create_key(self, scope: str, note: str | None = None) -> tuple[str, str]:
        """A new key: returns (id, secret). Only the secret's hash is stored."""
        if scope not in SCOPES:
            raise StoreError(f"scope must be one of {', '.join(SCOPES)}. Got {scope!r}")
        key_id = secrets.token_hex(4)
        secret = f"mlc_{key_id}_{secrets.token_urlsafe(24)}"
        with self.engine.begin() as connection:
            connection.execute(
                api_keys.insert().values(id=key_id, hash=_hash(secret), scope=scope, note=note, created_at=utcnow())
            )
        return key_id, secret

    def keys(self) -> list[ApiKey]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(api_keys).order_by(api_keys.c.created_at)).mappings()
            return [ApiKey(r["id"], r["scope"], r["note"], r["created_at"], r["revoked_at"]) for r in rows]

    def revoke_key(self, key_id: str) -> None:
        with self.engine.begin() as connection:
            done = connection.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        if done.rowcount == 0:
            known = ", ".join(k.id for k in self.keys() if k.revoked_at is None) or "none"
            raise StoreError(f"no active key {key_id!r}; active keys: {known}")

    def key_scope(self, secret: str) -> str | None:
        """The scope of an active key, or None for an unknown or revoked one."""
        with self.engine.connect() as connection:
            query = sa.select(api_keys.c.scope).where(api_keys.c.hash == _hash(secret), api_keys.c.revoked_at.is_(None))
            return connection.execute(query).scalar_one_or_none()

    def has_keys(self, scope: str | None = None) -> bool:
        query = sa.select(sa.func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_(None))
        if scope is not None:
            query = query.where(api_keys.c.scope == scope)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one()) > 0

    # ── alert episodes ───────────────────────────────────────────────────────────────
    def open_alerts(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            query = sa.select(alerts).where(alerts.c.closed_at.is_(None)).order_by(alerts.c.opened_at)
            return [dict(r) for r in connection.execute(query).mappings()]

    def alert_history(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return [dict(r) for r in connection.execute(sa.select(alerts).order_by(alerts.c.id)).mappings()]

    def open_alert(
        self,
        rule: str,
        subject: str,
        value: float | None,
        threshold: float | None,
        message: str,
        when: datetime | None = None,
    ) -> bool:
        """Open an episode unless one is open for (rule, subject); True when a new one opened."""
        with self.engine.begin() as connection:
            existing = connection.execute(
                sa.select(alerts.c.id).where(
                    alerts.c.rule == rule, alerts.c.subject == subject, alerts.c.closed_at.is_(None)
                )
            ).first()
            if existing is not None:
                return False
            connection.execute(
                alerts.insert().values(
                    rule=rule,
                    subject=subject,
                    opened_at=when or utcnow(),
                    value=value,
                    threshold=threshold,
                    message=message,
                )
            )
            return True

    def close_alert(self, rule: str, subject: str, when: datetime | None = None) -> bool:
        """Close the open episode of (rule, subject); True when one was open."""
        with self.engine.begin() as connection:
            done = connection.execute(
                alerts.update()
                .where(alerts.c.rule == rule, alerts.c.subject == subject, alerts.c.closed_at.is_(None))
                .values(closed_at=when or utcnow())
            )
            return bool(done.rowcount)

    # ── monitoring windows ───────────────────────────────────────────────────────────
    def save_window(self, row: dict[str, Any]) -> None:
        """Store one window's result; a window computed again (same start) replaces the earlier result."""
        with self.engine.begin() as connection:
            connection.execute(windows.delete().where(windows.c.start == row["start"]))
            connection.execute(windows.insert().values(**row))

    def windows(self, *, last: int | None = None) -> list[dict[str, Any]]:
        """Stored window results, oldest first (only the ``last`` ones when given)."""
        query = sa.select(windows).order_by(windows.c.end.desc(), windows.c.id.desc())
        if last is not None:
            query = query.limit(last)
        with self.engine.connect() as connection:
            rows = [dict(r) for r in connection.execute(query).mappings()]
        for row in rows:
            row["details"] = json.loads(row["details"])
        return rows[::-1]

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
                    reasons=json.dumps(reasons),
                    numbers=json.dumps(numbers, default=_plain),
                )
            )
            assert done.inserted_primary_key is not None
            return int(done.inserted_primary_key[0])

    def reviews(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = [dict(r) for r in connection.execute(sa.select(reviews).order_by(reviews.c.id)).mappings()]
        for row in rows:
            row["reasons"], row["numbers"] = json.loads(row["reasons"]), json.loads(row["numbers"])
            row["action_detail"] = json.loads(row["action_detail"]) if row["action_detail"] else None
        return rows

    def review(self, review_id: int) -> dict[str, Any] | None:
        return next((r for r in self.reviews() if r["id"] == review_id), None)

    def record_action(self, review_id: int, action: str, detail: dict[str, Any]) -> None:
        """Note on a review what was done about it (the link review → retrain → promotion)."""
        with self.engine.begin() as connection:
            connection.execute(
                reviews.update()
                .where(reviews.c.id == review_id)
                .values(action=action, action_at=utcnow(), action_detail=json.dumps(detail, default=_plain))
            )

    # ── use-case status ──────────────────────────────────────────────────────────────
    def set_status(self, key: str, value: dict[str, Any] | None) -> None:
        """Set (or, with None, clear) one piece of use-case-wide state, e.g. ``retired``."""
        with self.engine.begin() as connection:
            connection.execute(status.delete().where(status.c.key == key))
            if value is not None:
                connection.execute(
                    status.insert().values(key=key, value=json.dumps(value, default=_plain), updated_at=utcnow())
                )

    def get_status(self, key: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            raw = connection.execute(sa.select(status.c.value).where(status.c.key == key)).scalar_one_or_none()
        return json.loads(raw) if raw else None

    # ── retention ────────────────────────────────────────────────────────────────────
    def prune(self, older_than: datetime, *, keep_versions: set[str] | None = None) -> int:
        """Delete predictions (and their inputs) created before ``older_than``; returns how many.

        Rows of ``keep_versions`` (registered model versions, when the audit log is on) are kept.
        """
        condition = predictions.c.created_at < older_than
        if keep_versions:
            condition = condition & predictions.c.model_version.not_in(sorted(keep_versions))
        old = sa.select(predictions.c.request_id).where(condition)
        with self.engine.begin() as connection:
            connection.execute(prediction_inputs.delete().where(prediction_inputs.c.request_id.in_(old)))
            return int(connection.execute(predictions.delete().where(condition)).rowcount or 0)


def _datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    return pd.Timestamp(value).to_pydatetime()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _actual(value: Any) -> tuple[float | None, str | None]:
    if isinstance(value, bool):
        return float(value), str(value)
    if isinstance(value, (int, float)):
        return float(value), None
    try:
        return float(value), None
    except (TypeError, ValueError):
        return None, str(value)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # a committed batch survives the process being killed
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")  # several service workers share one file
    cursor.close()
