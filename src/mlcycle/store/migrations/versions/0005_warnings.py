"""Predictions keep what the service flagged with them (an input outside the range the model was trained on).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite does it in place too): a large log is not copied.
    op.add_column("mlcycle_predictions", sa.Column("warnings", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mlcycle_predictions") as batch:
        batch.drop_column("warnings")
