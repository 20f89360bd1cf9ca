"""At most one open episode per rule and subject, enforced by the database; and an outbox of undelivered alerts.

Two ``mlcycle monitor`` runs at once both saw "no open episode" and both opened one: the check was
a read before a write. A partial unique index (SQLite and PostgreSQL both have them) makes the
second insert a no-op instead. Episodes opened twice before this migration are closed as
duplicates of the first, so the index can be built.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.execute(
        "UPDATE mlcycle_alerts SET closed_at = opened_at WHERE closed_at IS NULL AND id NOT IN ("
        " SELECT MIN(id) FROM mlcycle_alerts WHERE closed_at IS NULL GROUP BY rule, subject)"
    )
    op.create_index(
        "uq_mlcycle_alerts_open",
        "mlcycle_alerts",
        ["rule", "subject"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "mlcycle_alert_outbox",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("sink", sa.String(1024), nullable=False, index=True),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("mlcycle_alert_outbox")
    op.drop_index("uq_mlcycle_alerts_open", "mlcycle_alerts")
