"""The service's endpoints and protocols, against the real promoted champion."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mlcycle.store import open_store
from tests.deploy.conftest import sales_rows


def test_health_ping_version(served: Any) -> None:
    _uc, client = served
    for path in ("/health", "/ping"):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.json()["model"] == "store-sales"
    assert client.get("/version").json()["version"] == answer.json()["version"]


def test_predict_logs_every_prediction_before_answering(served: Any) -> None:
    uc, client = served
    answer = client.post("/predict", json={"records": sales_rows(uc)})
    assert answer.status_code == 200
    body = answer.json()
    assert body["model"] == "store-sales" and len(body["predictions"]) == 3 == len(body["request_ids"])
    store = open_store(uc.state_dir)
    for request_id, value in zip(body["request_ids"], body["predictions"]):
        logged = store.predictions.get(request_id)
        assert logged is not None and logged.output == pytest.approx(value)
        assert logged.model_version == body["version"] and logged.series_key.startswith('["')


def test_explanations_add_up_and_read_plainly(served: Any) -> None:
    uc, client = served
    body = client.post("/predict", json={"records": sales_rows(uc, 2), "explain": True}).json()
    for prediction, explanation in zip(body["predictions"], body["explanations"]):
        assert explanation["base"] + sum(explanation["contributions"].values()) == pytest.approx(prediction, abs=1e-6)
        assert explanation["sentence"].startswith(f"Forecast {prediction:,.0f} units:")
    alone = client.post("/explain", json={"records": sales_rows(uc, 1)}).json()
    assert alone["explanations"][0]["space"] == "value"


MLFLOW_BODIES = [
    (
        "dataframe_split",
        lambda rows: {"dataframe_split": {"columns": list(rows[0]), "data": [list(r.values()) for r in rows]}},
    ),
    ("dataframe_records", lambda rows: {"dataframe_records": rows}),
    ("instances", lambda rows: {"instances": rows}),
    ("inputs", lambda rows: {"inputs": {k: [r[k] for r in rows] for k in rows[0]}}),
]


@pytest.mark.parametrize("name, body", MLFLOW_BODIES, ids=[b[0] for b in MLFLOW_BODIES])
def test_invocations_accepts_mlflow_formats(served: Any, name: str, body: Any) -> None:
    uc, client = served
    rows = sales_rows(uc)
    expected = client.post("/predict", json={"records": rows}).json()["predictions"]
    answer = client.post("/invocations", json=body(rows))
    assert answer.status_code == 200, answer.text
    np.testing.assert_allclose(answer.json()["predictions"], expected)


def test_invocations_accepts_csv(served: Any) -> None:
    uc, client = served
    rows = sales_rows(uc)
    csv = "date,item,price\n" + "\n".join(f"{r['date']},{r['item']},{r['price']}" for r in rows)
    answer = client.post("/invocations", content=csv, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200 and len(answer.json()["predictions"]) == 3


def test_open_inference_protocol_json(served: Any) -> None:
    uc, client = served
    assert client.get("/v2").json()["extensions"] == ["binary_tensor_data"]
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    meta = client.get("/v2/models/store-sales").json()
    assert [i["name"] for i in meta["inputs"]] == ["date", "item", "price"]
    assert [i["datatype"] for i in meta["inputs"]] == ["BYTES", "BYTES", "FP64"]
    rows = sales_rows(uc, 2)
    request = {
        "inputs": [
            {
                "name": c,
                "shape": [2],
                "datatype": "FP64" if c == "price" else "BYTES",
                "data": [r[c] for r in rows],
            }
            for c in ("date", "item", "price")
        ]
    }
    answer = client.post("/v2/models/store-sales/infer", json=request)
    assert answer.status_code == 200, answer.text
    expected = client.post("/predict", json={"records": rows}).json()["predictions"]
    np.testing.assert_allclose(answer.json()["outputs"][0]["data"], expected)
    version = meta["versions"][0]
    assert client.post(f"/v2/models/store-sales/versions/{version}/infer", json=request).status_code == 200
    wrong = client.post("/v2/models/other/infer", json=request)
    assert wrong.status_code == 404 and "unknown model 'other'" in wrong.json()["error"]


def test_feedback_by_request_id_is_idempotent_and_unknown_ids_are_named(served: Any) -> None:
    uc, client = served
    ids = client.post("/predict", json={"records": sales_rows(uc, 2)}).json()["request_ids"]
    items = [{"request_id": ids[0], "actual": 12}, {"request_id": ids[1], "actual": 0}]
    assert client.post("/feedback", json={"items": items}).json() == {"stored": 2}
    assert client.post("/feedback", json={"items": items}).json() == {"stored": 2}
    assert len(open_store(uc.state_dir).feedback.frame().query("request_id in @ids")) == 2
    unknown = client.post("/feedback", json={"items": [{"request_id": "deadbeef", "actual": 3}]})
    assert unknown.status_code == 404 and "deadbeef" in unknown.json()["detail"][0]["message"]


def test_feedback_by_keys_feeds_the_lag_features(served: Any) -> None:
    uc, client = served
    later = {"date": "2011-12-01", "item": "85123A", "price": 2.55}
    refused = client.post("/predict", json={"records": [later]})
    assert refused.status_code == 422 and "send them to /feedback" in refused.json()["detail"][0]["message"]
    history = uc.data[
        (uc.data["item"] == "85123A") & (uc.data["date"] >= "2011-11-01") & (uc.data["date"] < "2011-12-01")
    ]
    items = [{"item": "85123A", "date": f"{r.date:%Y-%m-%d}", "actual": int(r.units)} for r in history.itertuples()]
    assert client.post("/feedback", json={"items": items}).json() == {"stored": len(items)}
    answer = client.post("/predict", json={"records": [later]})
    assert answer.status_code == 200 and np.isfinite(answer.json()["predictions"][0])


def test_metrics_count_requests_and_predictions(served: Any) -> None:
    uc, client = served
    client.post("/predict", json={"records": sales_rows(uc, 1)})
    text = client.get("/metrics").text
    assert 'mlcycle_requests_total{endpoint="/predict",status="200"}' in text
    assert "mlcycle_request_latency_seconds_bucket" in text and "mlcycle_prediction_value_count" in text
    assert 'mlcycle_model_version_info{name="store-sales"' in text


def test_openapi_is_published(served: Any) -> None:
    _, client = served
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/predict",
        "/invocations",
        "/feedback",
        "/explain",
        "/v2/models/{name}/infer",
        "/admin/reload",
    ):
        assert path in paths


def test_an_explanation_in_progress_does_not_hold_up_the_service(served: Any) -> None:
    """Explaining runs in a worker thread: while one is under way, health and lean predictions are answered."""
    import threading

    uc, client = served
    model = client.app.state.serving.current.model  # type: ignore[attr-defined]
    entered, released = threading.Event(), threading.Event()
    real = model.explainer.explain

    def slow(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        released.wait(20)
        return real(*args, **kwargs)

    model.explainer.explain = slow
    try:
        answers: list[int] = []
        worker = threading.Thread(
            target=lambda: answers.append(client.post("/explain", json={"records": sales_rows(uc, 1)}).status_code)
        )
        worker.start()
        assert entered.wait(20)
        assert client.get("/health").status_code == 200 and not released.is_set()
        assert client.post("/predict", json={"records": sales_rows(uc, 2)}).status_code == 200
        assert not released.is_set() and not answers  # both answered while the explanation still waited
        released.set()
        worker.join(30)
        assert answers == [200]
    finally:
        released.set()
        model.explainer.explain = real
