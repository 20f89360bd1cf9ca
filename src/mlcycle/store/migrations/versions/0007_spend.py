"""Spend: what building and keeping the model has cost — compute minutes of searches, promotions and retrains,
and team days logged with ``mlcycle log-work`` — priced when recorded, against the development budget.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "mlcycle_spend",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("what", sa.String(32), nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("cost", sa.Float, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("mlcycle_spend")
