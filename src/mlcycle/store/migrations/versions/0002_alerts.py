"""Alert episodes: one row per (rule, subject) episode, opened when its condition starts and closed when it ends.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "mlcycle_alerts",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("threshold", sa.Float, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_mlcycle_alerts_open", "mlcycle_alerts", ["rule", "subject", "closed_at"])


def downgrade() -> None:
    op.drop_table("mlcycle_alerts")
