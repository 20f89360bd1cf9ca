"""Alembic environment for mlcycle's monitoring store: run programmatically by mlcycle.store."""

from __future__ import annotations

from alembic import context

from mlcycle.store.sql.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=context.config.attributes.get("version_table", "mlcycle_alembic_version"),
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
