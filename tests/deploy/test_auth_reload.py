"""API keys and scopes; a reload that refuses a broken model while serving goes on."""

from __future__ import annotations

import threading
from typing import Any

import mlflow
from fastapi.testclient import TestClient

from mlcycle.deploy import create_app
from mlcycle.store import open_store
from tests.deploy.conftest import copy_use_case, sales_rows


def test_scopes(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    store = open_store(uc.state_dir)
    with TestClient(create_app(uc.workspace)) as client:
        rows = {"records": sales_rows(uc, 1)}
        assert client.post("/predict", json=rows).status_code == 200  # no key configured: open (on 127.0.0.1)
        closed = client.post("/admin/reload")
        assert closed.status_code == 403 and "no admin key exists" in closed.text
        _, predict_key = store.keys.create("predict")
        _, feedback_key = store.keys.create("feedback")
        client.app.state.auth.forget()
        missing = client.post("/predict", json=rows)
        assert missing.status_code == 401 and "API key is required" in missing.text
        assert client.post("/predict", json=rows, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.post("/predict", json=rows, headers={"Authorization": f"Bearer {predict_key}"}).status_code == 200
        assert client.post("/predict", json=rows, headers={"X-API-Key": predict_key}).status_code == 200
        wrong = client.post("/predict", json=rows, headers={"X-API-Key": feedback_key})
        assert wrong.status_code == 403 and "scope 'feedback'" in wrong.text
        assert client.post("/feedback", json={"items": []}, headers={"X-API-Key": predict_key}).status_code == 403
        assert client.post("/feedback", json={"items": []}, headers={"X-API-Key": feedback_key}).status_code == 200
        assert client.get("/health").status_code == 200  # health needs no key
        assert client.post("/admin/reload", headers={"X-API-Key": predict_key}).status_code == 403
        admin_id, admin_key = store.keys.create("admin")
        client.app.state.auth.forget()
        assert client.post("/admin/reload", headers={"X-API-Key": admin_key}).status_code == 200
        assert client.post("/predict", json=rows, headers={"X-API-Key": admin_key}).status_code == 200
        store.keys.revoke(admin_id)
        client.app.state.auth.forget()
        assert client.post("/admin/reload", headers={"X-API-Key": admin_key}).status_code == 403


def test_reload_refuses_a_broken_model_without_a_failed_request(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "MLmodel").write_text("this: is not\n  a model: [")
    uri = f"sqlite:///{uc.state_dir / 'mlflow.db'}"
    client_mlflow = mlflow.tracking.MlflowClient(uri, uri)
    store = open_store(uc.state_dir)
    _, admin_key = store.keys.create("admin")
    headers = {"X-API-Key": admin_key}
    with TestClient(create_app(uc.workspace, poll_seconds=3600)) as client:
        serving_version = client.get("/version", headers=headers).json()["version"]
        failures: list[int] = []
        stop = threading.Event()

        def hammer() -> None:
            rows = {"records": sales_rows(uc, 2)}
            while not stop.is_set():
                status = client.post("/predict", json=rows, headers=headers).status_code
                if status != 200:
                    failures.append(status)

        worker = threading.Thread(target=hammer)
        worker.start()
        try:
            bad = client_mlflow.create_model_version("store-sales", str(broken), run_id=None)
            client_mlflow.set_registered_model_alias("store-sales", "champion", bad.version)
            answer = client.post("/admin/reload", headers=headers)
            assert answer.status_code == 409
            assert answer.json()["serving"] == serving_version and "failed to load" in answer.json()["reason"]
            assert client.get("/version", headers=headers).json()["version"] == serving_version
            client_mlflow.set_registered_model_alias("store-sales", "champion", serving_version)
        finally:
            stop.set()
            worker.join()
        assert failures == []
        assert client.post("/admin/reload", headers=headers).json() == {
            "reloaded": False,
            "serving": serving_version,
            "previous": serving_version,
        }
