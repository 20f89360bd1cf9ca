"""The SQL backend's own promises: hashes only, idempotent migrations, one engine and one migration per
process and address, a message that names an unreachable store."""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from mlcycle.exceptions import StoreError
from mlcycle.store import Store, open_store
from mlcycle.store.sql import SqlStore
from mlcycle.store.sql import engine as engines
from tests.conftest import fresh_postgres_database
from tests.store.conftest import record


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
        assert connection.execute(sa.text("SELECT version_num FROM mlcycle_alembic_version")).scalar_one() == "0009"


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


def _open_at(url: str, folder: str, start: Any) -> str:
    """A replica starting: wait for the others, then open (and migrate) the store."""
    start.wait()
    store = open_store(Path(folder), url)
    try:
        store.predictions.log([record(os.getpid())])  # the schema is whole: a prediction can be written
    finally:
        store.close()
    return "ok"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_replicas_starting_together_migrate_the_store_once(backend: str, tmp_path: Path) -> None:
    """Four processes open a new store at the same instant: one runs the migrations under the store's lock, the
    others wait and find the schema current — none fails on a table another just created."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with contextlib.ExitStack() as stack:
        url = (
            f"sqlite:///{tmp_path / 'monitor.db'}"
            if backend == "sqlite"
            else stack.enter_context(fresh_postgres_database())
        )
        start = context.Manager().Barrier(4)
        with context.Pool(4) as pool:
            outcomes = pool.starmap(_open_at, [(url, str(tmp_path), start)] * 4)
        assert outcomes == ["ok"] * 4
        store = open_store(tmp_path, url)
        with _engine(store).connect() as connection:
            versions = connection.execute(sa.text("SELECT version_num FROM mlcycle_alembic_version")).scalars().all()
        assert versions == ["0009"] and store.predictions.count() == 4
        store.close()


def _downgrade(store: Store, revision: str) -> None:
    """The store's schema taken down to ``revision`` with Alembic, as an operator would."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("mlcycle.store") / "migrations"))
    config.attributes["version_table"] = engines.VERSION_TABLE
    with _engine(store).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_migration_0008_keeps_every_input_both_ways(tmp_path: Path) -> None:
    """Down to 0007 the long form is rebuilt from the documents; back up, the documents are all there is."""
    store = open_store(tmp_path)
    store.predictions.log([record(i) for i in range(5)])
    _downgrade(store, "0007")
    with _engine(store).connect() as connection:
        long = connection.execute(
            sa.text("SELECT number FROM mlcycle_prediction_inputs WHERE request_id = 'req-00003' AND name = 'price'")
        ).scalar_one()
    assert long == pytest.approx(5.55)
    store.migrate()
    assert list(store.predictions.inputs(["req-00003"]).loc["req-00003"]) == ["2011-09-01", "85123A", 5.55, None]


def test_migration_0009_drops_the_version_index_and_puts_it_back(tmp_path: Path) -> None:
    """The log keeps no index on the model version (each costs a logged row about 3 µs at ten million rows); the
    audit page's filter by version still answers, and 0008 gets its index back."""

    def indexes() -> set[str]:
        return {i["name"] for i in sa.inspect(_engine(store)).get_indexes("mlcycle_predictions")}

    store = open_store(tmp_path)
    store.predictions.log([record(i) for i in range(5)])
    assert "ix_mlcycle_predictions_model_version" not in indexes()
    assert [p.request_id for p in store.predictions.recent(2, model_version=record(0).model_version)] == [
        "req-00004",
        "req-00003",
    ]
    _downgrade(store, "0008")
    assert "ix_mlcycle_predictions_model_version" in indexes()
    store.migrate()
    assert "ix_mlcycle_predictions_model_version" not in indexes() and store.predictions.count() == 5


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["85123A", "A", 'q"uote', "é\u202e٣", ""]),
    st.builds(np.float32, st.floats(-1e6, 1e6, width=32)),
    st.builds(np.int64, st.integers(-(2**40), 2**40)),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.fixed_dictionaries({"date": VALUES, "item": VALUES, "price": VALUES}), min_size=1, max_size=20),
    other=st.booleans(),
)
def test_documents_built_by_column_are_each_rows_dumps(rows: list[dict[str, object]], other: bool) -> None:
    """A request's documents are written column by column (text encoded once, numbers by repr): each must be
    exactly the text one json.dumps of the row made plain writes — -0.0, NaN, inf, numpy scalars, times, a
    row with other fields (written row by row) included."""
    import json

    from mlcycle.store.sql.encoding import plain
    from mlcycle.store.sql.predictions import documents

    if other:
        rows = [*rows, {"item": "A"}]
    assert documents(rows) == [json.dumps({k: plain(v) for k, v in row.items()}) for row in rows]
