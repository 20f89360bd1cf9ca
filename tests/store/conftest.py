"""The store every test of this folder runs on: each backend in turn, SQLite (the default) and PostgreSQL.

Together the tests of ``tests/store/`` are the conformance suite of the contract written in
``mlcycle/store/_base.py``: a new backend is added here as one more parameter and must pass all of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mlcycle.deploy.predictlog import PredictionRecord
from mlcycle.store import Store, open_store
from tests.conftest import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = open_store(tmp_path)
        yield opened
        opened.close()
    else:
        with fresh_postgres_database() as url:
            opened = open_store(tmp_path, url)
            yield opened
            opened.close()


def record(i: int, version: str = "1", when: datetime | None = None) -> PredictionRecord:
    return PredictionRecord(
        request_id=f"req-{i:05d}",
        model_name="store-sales",
        model_version=version,
        inputs={"date": "2011-09-01", "item": "85123A", "price": 2.55 + i, "promo": None},
        output=40.0 + i,
        latency_ms=1.5,
        series_key='["85123A"]',
        event_time=datetime(2011, 9, 1) + timedelta(days=i),
        **({"created_at": when} if when else {}),
    )
