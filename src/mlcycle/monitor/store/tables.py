"""The monitoring store's tables (SQLAlchemy Core). Changes go through an Alembic migration.

``predictions`` holds one row per prediction with its audit record (inputs as JSON, output,
explanation); ``prediction_inputs`` repeats the inputs one value per row (request id, column,
number or text) so monitoring reads millions of values per column without parsing JSON.
``feedback`` holds actuals, by request id or by series key and time. ``api_keys`` holds only
hashes of keys.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

predictions = sa.Table(
    "mlcycle_predictions", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=False), nullable=False, index=True),
    sa.Column("model_name", sa.String(128), nullable=False),
    sa.Column("model_version", sa.String(32), nullable=False, index=True),
    sa.Column("source", sa.String(16), nullable=False),  # online | batch
    sa.Column("series_key", sa.String(256), nullable=True),
    sa.Column("event_time", sa.DateTime(timezone=False), nullable=True),
    sa.Column("inputs", sa.Text, nullable=False),
    sa.Column("output", sa.Float, nullable=True),
    sa.Column("output_label", sa.String(128), nullable=True),
    sa.Column("explanation", sa.Text, nullable=True),
    sa.Column("latency_ms", sa.Float, nullable=True),
    sa.Index("ix_mlcycle_predictions_series", "series_key", "event_time"),
)

prediction_inputs = sa.Table(
    "mlcycle_prediction_inputs", metadata,
    sa.Column("request_id", sa.String(64), sa.ForeignKey("mlcycle_predictions.request_id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("number", sa.Float, nullable=True),
    sa.Column("text", sa.String(512), nullable=True),
)

feedback = sa.Table(
    "mlcycle_feedback", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), nullable=True, unique=True),
    sa.Column("series_key", sa.String(256), nullable=True),
    sa.Column("event_time", sa.DateTime(timezone=False), nullable=True),
    sa.Column("actual", sa.Float, nullable=True),
    sa.Column("actual_label", sa.String(128), nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=False), nullable=False),
    sa.UniqueConstraint("series_key", "event_time", name="uq_mlcycle_feedback_series_time"),
)

api_keys = sa.Table(
    "mlcycle_api_keys", metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("hash", sa.String(128), nullable=False, unique=True),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("note", sa.String(256), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=False), nullable=True),
)

alerts = sa.Table(
    "mlcycle_alerts", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=False), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=False), nullable=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("threshold", sa.Float, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Index("ix_mlcycle_alerts_open", "rule", "subject", "closed_at"),
)
