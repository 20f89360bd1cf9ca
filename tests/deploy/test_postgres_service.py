"""The service on a PostgreSQL store, for real: predictions and feedback land in PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from mlcycle.deploy import create_app
from mlcycle.store import open_store
from tests.conftest import fresh_postgres_database
from tests.deploy.conftest import copy_use_case, sales_rows


def test_service_logs_to_postgresql(promoted_example: Any, tmp_path: Any, monkeypatch: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    with fresh_postgres_database() as url:
        monkeypatch.setenv("MLCYCLE_STORE_URL", url)
        with TestClient(create_app(uc.workspace)) as client:
            body = client.post("/predict", json={"records": sales_rows(uc, 4)}).json()
            assert client.post(
                "/feedback", json={"items": [{"request_id": body["request_ids"][0], "actual": 5}]}
            ).json() == {"stored": 1}
        store = open_store(uc.state_dir, url)
        assert store.dialect == "postgresql" and store.predictions.count() == 4
        assert store.feedback.frame()["actual"].tolist() == [5.0]
        assert not (uc.state_dir / "monitor.db").exists()
        store.close()
