"""The real server (`mlcycle serve` under uvicorn): tritonclient's binary protocol, durability under SIGKILL,
several workers."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import numpy as np
import pytest

from mlcycle.store import open_store
from tests.deploy.conftest import copy_use_case, sales_rows
from tests.servers import post, running


@pytest.fixture(scope="module")
def server_copy(promoted_example: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return copy_use_case(promoted_example[0], tmp_path_factory.mktemp("server") / "uc")


def test_tritonclient_binary_and_json(server_copy: Any) -> None:
    import tritonclient.http as triton

    uc = server_copy
    rows = sales_rows(uc, 3)
    with running(uc.folder) as (port, _):
        _, expected = post(port, "/predict", {"records": rows})
        client = triton.InferenceServerClient(url=f"127.0.0.1:{port}")
        assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("store-sales")
        meta = client.get_model_metadata("store-sales")
        assert [i["name"] for i in meta["inputs"]] == ["date", "item", "price"]
        for binary in (True, False):
            inputs = []
            for name, datatype, values in (
                ("date", "BYTES", [r["date"] for r in rows]),
                ("item", "BYTES", [r["item"] for r in rows]),
                ("price", "FP64", [r["price"] for r in rows]),
            ):
                tensor = triton.InferInput(name, [len(rows)], datatype)
                array = np.array(values, dtype=object if datatype == "BYTES" else np.float64)
                tensor.set_data_from_numpy(array, binary_data=binary)
                inputs.append(tensor)
            outputs = None if binary else [triton.InferRequestedOutput("prediction", binary_data=False)]
            result = client.infer("store-sales", inputs, outputs=outputs)
            np.testing.assert_allclose(result.as_numpy("prediction"), expected["predictions"])
        with pytest.raises(Exception, match="not a value the model knows"):
            bad = triton.InferInput("item", [1], "BYTES")
            bad.set_data_from_numpy(np.array(["XYZ"], dtype=object))
            date = triton.InferInput("date", [1], "BYTES")
            date.set_data_from_numpy(np.array(["2011-09-01"], dtype=object))
            price = triton.InferInput("price", [1], "FP64")
            price.set_data_from_numpy(np.array([2.5]))
            client.infer("store-sales", [date, bad, price])


def test_every_answered_prediction_survives_sigkill(server_copy: Any) -> None:
    uc = server_copy
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    with running(uc.folder) as (port, process):

        def client() -> None:
            rows = {"records": sales_rows(uc, 2)}
            while not stop.is_set():
                try:
                    status, body = post(port, "/predict", rows)
                except OSError:
                    return  # the server is gone
                if status == 200:
                    with lock:
                        answered.extend(body["request_ids"])

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        os.kill(process.pid, signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert len(answered) > 50
    logged = open_store(uc.state_dir).predictions.ids()
    missing = [r for r in answered if r not in logged]
    assert missing == [], f"{len(missing)} answered predictions are not in the store"


def test_several_workers_follow_the_alias_and_share_metrics(server_copy: Any) -> None:
    import mlflow

    uc = server_copy
    uri = f"sqlite:///{uc.state_dir / 'mlflow.db'}"
    client = mlflow.tracking.MlflowClient(uri, uri)
    current = client.get_model_version_by_alias("store-sales", "champion")
    champion = current.version
    with running(uc.folder, workers=2) as (port, _):
        for _ in range(10):
            assert post(port, "/predict", {"records": sales_rows(uc, 1)})[0] == 200
        # a new version (same artifacts) becomes champion: every worker must move to it without a restart
        moved = str(client.create_model_version("store-sales", current.source, run_id=current.run_id).version)
        client.set_registered_model_alias("store-sales", "champion", moved)
        try:
            deadline = time.time() + 20
            seen: set[str] = set()
            while time.time() < deadline and seen != {moved}:
                seen = {post(port, "/predict", {"records": sales_rows(uc, 1)})[1]["version"] for _ in range(12)}
            assert seen == {moved}
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
                text = answer.read().decode()
            total = sum(
                float(line.split()[-1])
                for line in text.splitlines()
                if line.startswith('mlcycle_requests_total{endpoint="/predict",status="200"')
            )
            assert total >= 10
        finally:
            client.set_registered_model_alias("store-sales", "champion", champion)


def test_sigterm_drains_requests_and_the_log(server_copy: Any) -> None:
    uc = server_copy
    answered: list[str] = []
    lock = threading.Lock()
    with running(uc.folder) as (port, process):

        def client() -> None:
            rows = {"records": sales_rows(uc, 1)}
            for _ in range(200):
                try:
                    status, body = post(port, "/predict", rows)
                except OSError:
                    return
                if status == 200:
                    with lock:
                        answered.extend(body["request_ids"])

        threads = [threading.Thread(target=client) for _ in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught: -SIGTERM after a clean drain
        assert process.wait(timeout=40) in (0, -signal.SIGTERM)
        for thread in threads:
            thread.join(timeout=30)
    logged = open_store(uc.state_dir).predictions.ids()
    assert answered and all(r in logged for r in answered)


def test_retention_keeps_registered_versions_when_auditing(server_copy: Any) -> None:
    from datetime import datetime

    from mlcycle.deploy.predictlog import PredictionRecord
    from mlcycle.deploy.serving import Serving

    uc = server_copy
    store = open_store(uc.state_dir)
    old = datetime(2001, 1, 1)
    store.predictions.log(
        [
            PredictionRecord("old-registered", uc.name, "1", {"price": 1.0}, output=1.0, created_at=old),
            PredictionRecord("old-gone", uc.name, "999", {"price": 1.0}, output=1.0, created_at=old),
        ]
    )
    assert Serving(uc.workspace, store).prune() == 1
    assert store.predictions.get("old-gone") is None and store.predictions.get("old-registered") is not None
