"""The monitoring store's tables (SQLAlchemy Core). Changes go through an Alembic migration.

``predictions`` holds one row per prediction with its audit record (inputs as JSON, written once,
output, explanation); monitoring windows it by creation time or by ``coalesce(event_time,
created_at)``, each with its index.
``feedback`` holds actuals, by request id or by series key and time. ``api_keys`` holds only
hashes of keys. ``windows`` holds one monitoring result per window (recomputing a window
replaces it), ``reviews`` each verdict and what was done about it, ``request_errors`` the
scoring requests that failed (for the error-rate rule), ``status`` use-case-wide state such
as "retired", ``actions`` who started which retrain, rollback, retire or promote and how it ended,
``alert_outbox`` the alerts a sink has not taken yet (sent again on the next monitoring run).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

predictions = sa.Table(
    "mlcycle_predictions",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=False), nullable=False, index=True),
    sa.Column("model_name", sa.String(128), nullable=False),
    sa.Column("model_version", sa.String(32), nullable=False),  # not indexed: 0009
    sa.Column("source", sa.String(16), nullable=False),  # online | batch
    sa.Column("series_key", sa.String(256), nullable=True),
    sa.Column("event_time", sa.DateTime(timezone=False), nullable=True),
    sa.Column("inputs", sa.Text, nullable=False),
    sa.Column("output", sa.Float, nullable=True),
    sa.Column("output_label", sa.String(128), nullable=True),
    sa.Column("explanation", sa.Text, nullable=True),
    sa.Column("latency_ms", sa.Float, nullable=True),
    sa.Column("warnings", sa.Text, nullable=True),  # JSON: what the service flagged (an input out of range…)
    sa.Index("ix_mlcycle_predictions_series", "series_key", "event_time"),
)
# monitoring's windows by event (`frame(by="event")`) select and order on this expression
sa.Index("ix_mlcycle_predictions_event_basis", sa.func.coalesce(predictions.c.event_time, predictions.c.created_at))

feedback = sa.Table(
    "mlcycle_feedback",
    metadata,
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
    "mlcycle_api_keys",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("hash", sa.String(128), nullable=False, unique=True),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("note", sa.String(256), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=False), nullable=True),
)

alerts = sa.Table(
    "mlcycle_alerts",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=False), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=False), nullable=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("threshold", sa.Float, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Index("ix_mlcycle_alerts_open", "rule", "subject", "closed_at"),
    sa.Index(  # one open episode per rule and subject, whoever opens it
        "uq_mlcycle_alerts_open",
        "rule",
        "subject",
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    ),
)

alert_outbox = sa.Table(
    "mlcycle_alert_outbox",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("sink", sa.String(1024), nullable=False, index=True),  # the sink's name, e.g. webhook:<url>
    sa.Column("event", sa.Text, nullable=False),  # JSON: the alert as the sink would have received it
    sa.Column("queued_at", sa.DateTime(timezone=False), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
)

windows = sa.Table(
    "mlcycle_windows",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("start", sa.DateTime(timezone=False), nullable=False),
    sa.Column("end", sa.DateTime(timezone=False), nullable=False),
    sa.Column("computed_at", sa.DateTime(timezone=False), nullable=False),
    sa.Column("model_version", sa.String(32), nullable=True),
    sa.Column("predictions", sa.Integer, nullable=False),
    sa.Column("labelled", sa.Integer, nullable=False),
    sa.Column("metric", sa.String(64), nullable=True),
    sa.Column("metric_value", sa.Float, nullable=True),
    sa.Column("baseline_metric_value", sa.Float, nullable=True),
    sa.Column("realised_value", sa.Float, nullable=True),
    sa.Column("estimated_value", sa.Float, nullable=True),
    sa.Column("validated_value", sa.Float, nullable=True),
    sa.Column("latency_p95_ms", sa.Float, nullable=True),
    sa.Column("error_rate", sa.Float, nullable=True),
    sa.Column("drifted", sa.Integer, nullable=False),
    sa.Column("details", sa.Text, nullable=False),  # JSON: drift rows, the three views, alerts of the window
    sa.UniqueConstraint("start", name="uq_mlcycle_windows_start"),
)

reviews = sa.Table(
    "mlcycle_reviews",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=False), nullable=False),
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("model_version", sa.String(32), nullable=True),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("numbers", sa.Text, nullable=False),
    sa.Column("action", sa.String(16), nullable=True),  # retrain | rollback | retire, once acted on
    sa.Column("action_at", sa.DateTime(timezone=False), nullable=True),
    sa.Column("action_detail", sa.Text, nullable=True),  # JSON: what the action did (runs, versions)
)

request_errors = sa.Table(
    "mlcycle_request_errors",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=False), nullable=False, index=True),
    sa.Column("route", sa.String(128), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
)

status = sa.Table(
    "mlcycle_status",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
)

actions = sa.Table(
    "mlcycle_actions",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=False), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),  # the key's id and note, or "local user <name>"
    sa.Column("action", sa.String(32), nullable=False),  # retrain | rollback | retire | promote
    sa.Column("outcome", sa.String(16), nullable=False),  # started | done | failed
    sa.Column("detail", sa.Text, nullable=False),  # JSON: the arguments, then the result or the error
    sa.Column("ended_at", sa.DateTime(timezone=False), nullable=True),
)

spend = sa.Table(
    "mlcycle_spend",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=False), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # compute | team
    sa.Column("what", sa.String(32), nullable=False),  # search | promotion | retrain | work
    sa.Column("quantity", sa.Float, nullable=False),  # compute: minutes; team: days
    sa.Column("cost", sa.Float, nullable=False),  # priced when recorded, in the design's currency
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),  # the MLflow run it was measured on, when there is one
)
