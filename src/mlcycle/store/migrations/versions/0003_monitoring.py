"""Monitoring results per window, reviews, failed requests and the use case's serving status.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "mlcycle_windows",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
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
        sa.Column("details", sa.Text, nullable=False),
        sa.UniqueConstraint("start", name="uq_mlcycle_windows_start"),
    )
    op.create_table(
        "mlcycle_reviews",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("model_version", sa.String(32), nullable=True),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("numbers", sa.Text, nullable=False),
        sa.Column("action", sa.String(16), nullable=True),
        sa.Column("action_at", sa.DateTime(), nullable=True),
        sa.Column("action_detail", sa.Text, nullable=True),
    )
    op.create_table(
        "mlcycle_request_errors",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False, index=True),
        sa.Column("route", sa.String(128), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
    )
    op.create_table(
        "mlcycle_status",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_mlcycle_predictions_event_time", "mlcycle_predictions", ["event_time"])


def downgrade() -> None:
    op.drop_index("ix_mlcycle_predictions_event_time", "mlcycle_predictions")
    for table in ("mlcycle_status", "mlcycle_request_errors", "mlcycle_reviews", "mlcycle_windows"):
        op.drop_table(table)
