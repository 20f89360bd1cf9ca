"""API keys and scopes; a reload that refuses a broken model while serving goes on."""

from __future__ import annotations

import random
import shutil
import threading
import time
from pathlib import Path
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


def _truncated(folder: Path) -> None:
    pickled = folder / "python_model.pkl"
    pickled.write_bytes(pickled.read_bytes()[: pickled.stat().st_size // 2])


def _garbled(folder: Path) -> None:
    pickled = folder / "python_model.pkl"
    pickled.write_bytes(random.Random(7).randbytes(pickled.stat().st_size))


def _schema_deleted(folder: Path) -> None:
    (folder / "artifacts" / "schema.json").unlink()


def _deleted(folder: Path) -> None:
    shutil.rmtree(folder)


def test_a_version_whose_artifacts_were_deleted_or_corrupted_is_refused_while_the_old_one_serves(
    promoted_example: Any, tmp_path: Any
) -> None:
    """A real model version's files, copied, registered, then damaged as a disk or a careless hand would: the
    reload names the version and why, the champion in memory keeps answering, and the poller leaves it at that."""
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    uri = f"sqlite:///{uc.state_dir / 'mlflow.db'}"
    registry = mlflow.tracking.MlflowClient(uri, uri)
    _, admin_key = open_store(uc.state_dir).keys.create("admin")
    headers = {"X-API-Key": admin_key}
    rows = {"records": sales_rows(uc, 3)}
    with TestClient(create_app(uc.workspace, poll_seconds=0.1)) as client:
        serving = client.get("/version", headers=headers).json()["version"]
        source = Path(registry.get_model_version_download_uri("store-sales", serving).removeprefix("file://"))
        for damage, why in [
            (_truncated, "failed to load"),
            (_garbled, "failed to load"),
            (_schema_deleted, "failed to load"),
            (_deleted, "failed to load"),
        ]:
            copy = tmp_path / damage.__name__
            shutil.copytree(source, copy)
            version = registry.create_model_version("store-sales", str(copy), run_id=None).version
            damage(copy)
            registry.set_registered_model_alias("store-sales", "champion", version)
            refused = client.post("/admin/reload", headers=headers)
            assert refused.status_code == 409, (damage.__name__, refused.text)
            assert refused.json()["serving"] == serving and f"version {version} {why}" in refused.json()["reason"]
            time.sleep(0.3)  # a few polls: each meets the same refused version
            now = client.get("/version", headers=headers).json()
            assert now["version"] == serving and f"version {version} {why}" in now["last_reload_error"]
            answer = client.post("/predict", json=rows, headers=headers)
            assert answer.status_code == 200 and answer.json()["version"] == serving
        registry.set_registered_model_alias("store-sales", "champion", serving)
        time.sleep(0.3)
        assert client.get("/version", headers=headers).json()["last_reload_error"] is None
