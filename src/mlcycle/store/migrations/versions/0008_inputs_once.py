"""Inputs written once: the long-form copy of every prediction's inputs is dropped (the JSON document on the
prediction holds the same values, and monitoring now parses it in chunks), and an index on the expression
monitoring windows forecasts by — ``coalesce(event_time, created_at)`` — so a window of a log of tens of
millions of rows is a range scan, not a sort of the table. That index replaces the one on ``event_time`` alone
(every query on the event time goes through the expression or the series index): one index less to keep up
on every logged prediction.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

EVENT_BASIS = "ix_mlcycle_predictions_event_basis"


def upgrade() -> None:
    op.drop_index("ix_mlcycle_prediction_inputs_request_id", table_name="mlcycle_prediction_inputs")
    op.drop_table("mlcycle_prediction_inputs")
    op.create_index(EVENT_BASIS, "mlcycle_predictions", [sa.text("coalesce(event_time, created_at)")])
    op.drop_index("ix_mlcycle_predictions_event_time", table_name="mlcycle_predictions")


def downgrade() -> None:
    op.drop_index(EVENT_BASIS, table_name="mlcycle_predictions")
    op.create_index("ix_mlcycle_predictions_event_time", "mlcycle_predictions", ["event_time"])
    inputs = op.create_table(
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
    # the long form rebuilt from the documents, as 0001–0007 wrote it
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT request_id, inputs FROM mlcycle_predictions"))
    batch: list[dict[str, object]] = []
    for request_id, document in rows:
        for name, value in json.loads(document).items():
            number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
            text = None if number is not None or value is None else str(value)[:512]
            batch.append({"request_id": request_id, "name": name, "number": number, "text": text})
        if len(batch) >= 10_000:
            op.bulk_insert(inputs, batch)
            batch = []
    if batch:
        op.bulk_insert(inputs, batch)
