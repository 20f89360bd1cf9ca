"""Performance on delayed ground truth: the join, the three views on labelled rows, money realised."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from mlcycle.deploy import create_app
from mlcycle.monitor import performance
from mlcycle.store import open_store
from tests.deploy.conftest import copy_use_case


def test_no_actuals_means_no_metrics(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    store = open_store(uc.state_dir)
    assert performance.evaluate(uc.workspace, store).note == "no predictions in this window"
    with TestClient(create_app(uc.workspace)) as client:
        client.post("/predict", json={"records": [{"date": "2011-09-01", "item": "85123A", "price": 2.55}]})
    result = performance.evaluate(uc.workspace, store)
    assert result.predictions == 1 and result.labelled == 0 and result.metrics == {}
    assert "no actuals yet" in result.note


def test_views_and_money_on_the_labelled_predictions(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    store = open_store(uc.state_dir)
    september = uc.data[(uc.data["date"] > "2011-08-31") & (uc.data["date"] <= "2011-09-14")]
    days = sorted(september["date"].unique())
    with TestClient(create_app(uc.workspace)) as client:
        for i, day in enumerate(days):
            today = september[september["date"] == day]
            rows = [{"date": f"{r.date:%Y-%m-%d}", "item": r.item, "price": float(r.price)} for r in today.itertuples()]
            assert client.post("/predict", json={"records": rows}).status_code == 200
            if i < len(days) - 1:  # the last day's actuals have not come back yet
                items = [
                    {"item": r.item, "date": f"{r.date:%Y-%m-%d}", "actual": int(r.units)} for r in today.itertuples()
                ]
                assert client.post("/feedback", json={"items": items}).status_code == 200
    result = performance.evaluate(uc.workspace, store, validated_value=5000.0)
    per_day = len(september) // len(days)
    assert result.predictions == len(september) and result.labelled == len(september) - per_day
    joined = performance.labelled_predictions(uc.workspace, store).dropna(subset=["actual"])
    by_hand = np.mean(np.abs(joined["actual"] - joined["output"]))
    assert result.value("mae") == pytest.approx(by_hand)
    assert set(result.metrics) == {"data_scientist", "domain_expert", "business"}
    assert result.baseline["data_scientist"]["mae"] > 0 and result.realised_value is not None
    assert result.estimated_value == pytest.approx(2927, rel=0.01) and result.validated_value == 5000.0
