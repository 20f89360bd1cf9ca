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


def test_figures_are_estimated_on_every_row_and_checked_where_actuals_came_back(
    promoted_example: Any, tmp_path: Any
) -> None:
    """DLE from the champion's estimator: estimated money on all predictions of the window — those still
    waiting for their actuals too — and, on the rows that have them, the estimate against the realised figure."""
    from mlcycle.develop import registry
    from mlcycle.develop.tracking import Tracker
    from mlcycle.metrics.estimation import Estimator
    from tests.monitor.conftest import serve_period

    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    sent = serve_period(uc, "2011-08-31", "2011-09-14", feedback=150)
    store = open_store(uc.state_dir)
    tracker = Tracker(uc.state_dir, uc.name)
    version = registry.alias_version(tracker, uc.name, registry.CHAMPION)
    estimator = Estimator.from_dict(registry.estimator(tracker, uc.name, str(version)))
    assert estimator.kind == "dle" and estimator.reference_rows > 1_000
    result = performance.evaluate(uc.workspace, store, estimator=estimator)
    assert sent == 150 and result.labelled == 150 < result.predictions
    estimated = result.estimated
    assert estimated is not None and estimated["rows"] == result.predictions  # every row, labelled or not
    for name in ("mae", "money_lost", "net_value"):
        interval = estimated["intervals"][name]
        assert interval["low"] <= estimated["figures"][name] <= interval["high"]
    assert estimated["method"].startswith("direct loss estimation") and len(estimated["assumptions"]) == 2
    check = estimated["check"]["net_value"]
    assert check["rows"] == 150 and check["realised"] == pytest.approx(result.realised_value)
    assert check["error"] == pytest.approx(check["estimated"] - check["realised"])
    assert abs(estimated["check"]["mae"]["error"]) < 0.5 * result.value("mae")  # in the right region
