"""The first monitoring store: predictions, their inputs, feedback and API keys.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "mlcycle_predictions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("series_key", sa.String(256), nullable=True),
        sa.Column("event_time", sa.DateTime(), nullable=True),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("output", sa.Float, nullable=True),
        sa.Column("output_label", sa.String(128), nullable=True),
        sa.Column("explanation", sa.Text, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=True),
    )
    op.create_index("ix_mlcycle_predictions_created_at", "mlcycle_predictions", ["created_at"])
    op.create_index("ix_mlcycle_predictions_model_version", "mlcycle_predictions", ["model_version"])
    op.create_index("ix_mlcycle_predictions_series", "mlcycle_predictions", ["series_key", "event_time"])
    op.create_table(
        "mlcycle_prediction_inputs",
        sa.Column(
            "request_id",
            sa.String(64),
            sa.ForeignKey("mlcycle_predictions.request_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("number", sa.Float, nullable=True),
        sa.Column("text", sa.String(512), nullable=True),
    )
    op.create_index("ix_mlcycle_prediction_inputs_request_id", "mlcycle_prediction_inputs", ["request_id"])
    op.create_table(
        "mlcycle_feedback",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=True, unique=True),
        sa.Column("series_key", sa.String(256), nullable=True),
        sa.Column("event_time", sa.DateTime(), nullable=True),
        sa.Column("actual", sa.Float, nullable=True),
        sa.Column("actual_label", sa.String(128), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("series_key", "event_time", name="uq_mlcycle_feedback_series_time"),
    )
    op.create_table(
        "mlcycle_api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("hash", sa.String(128), nullable=False, unique=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("note", sa.String(256), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    for table in ("mlcycle_api_keys", "mlcycle_feedback", "mlcycle_prediction_inputs", "mlcycle_predictions"):
        op.drop_table(table)
