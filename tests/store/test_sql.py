"""The SQL backend's own promises: hashes only, idempotent migrations, one engine and one migration per
process and address, a message that names an unreachable store."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mlcycle.exceptions import StoreError
from mlcycle.store import Store, open_store
from mlcycle.store.sql import SqlStore
from mlcycle.store.sql import engine as engines


def _engine(store: Store) -> sa.Engine:
    assert isinstance(store, SqlStore)
    return store.engine


def test_api_keys_store_only_hashes(store: Store) -> None:
    _, secret = store.keys.create("predict")
    with _engine(store).connect() as connection:
        stored = connection.execute(sa.text("SELECT hash FROM mlcycle_api_keys")).scalar_one()
    assert secret not in stored and len(stored) == 64


def test_migrations_are_idempotent(store: Store) -> None:
    store.migrate()
    store.migrate()
    with _engine(store).connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM mlcycle_alembic_version")).scalar_one() == "0008"


def test_one_engine_and_one_migration_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[object] = []
    real = engines.migrate
    monkeypatch.setattr(engines, "migrate", lambda engine: (runs.append(engine), real(engine)))
    first, second = open_store(tmp_path), open_store(tmp_path)
    assert _engine(first) is _engine(second) and len(runs) == 1
    first.predictions.log([])
    assert first.predictions.count() == 0 and second.history.windows() == []
    other = open_store(tmp_path / "elsewhere")
    assert _engine(other) is not _engine(first) and len(runs) == 2


def test_unreachable_store_says_where(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot reach the monitoring store"):
        open_store(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="cannot reach the monitoring store"):  # a failed open is not remembered
        open_store(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none")
