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


@pytest.mark.parametrize("method", ["seasonal_naive", "last_value"])
def test_known_actuals_read_as_far_back_as_the_baseline_looks(method: str, make_use_case: Any) -> None:
    """Today's process answers a window's rows from the actuals read back only as far as it looks exactly as from
    the whole log: three seasons for seasonal_naive; for last_value each series' latest actual before the window,
    however old — series B's came back two months earlier and nothing since."""
    from datetime import datetime, timedelta

    import pandas as pd

    import mlcycle
    from mlcycle.deploy.predictlog import PredictionRecord
    from mlcycle.design import baseline
    from mlcycle.store import FeedbackItem
    from mlcycle.store.records import series_key
    from tests.conftest import minimal_design, small_sales

    design = minimal_design()
    design["value"]["baseline"] = {"method": method, **({"season": 7} if method == "seasonal_naive" else {})}
    uc = mlcycle.UseCase.load(make_use_case(design, small_sales(days=60)))
    store = open_store(uc.state_dir)
    first = datetime(2024, 3, 1)
    logged = [
        (item, first + timedelta(days=day))
        for day in range(120)
        for item in ("A", "B")
        if item == "A" or day < 40  # B stops being forecast (and fed back) after 40 days
    ]
    store.predictions.log(
        [
            PredictionRecord(f"r{i}", "small-sales", "1", {}, 10.0, series_key=series_key([item]), event_time=when)
            for i, (item, when) in enumerate(logged)
        ]
    )
    store.feedback.add(
        [
            FeedbackItem(float(i % 17), series_key=series_key([item]), event_time=when)
            for i, (item, when) in enumerate(logged)
        ]
    )
    since, until = first + timedelta(days=100), first + timedelta(days=114)
    rows = pd.DataFrame({"item": ["A", "B"] * 14, "date": [since + timedelta(days=d // 2) for d in range(28)]})
    bounded = performance.known_actuals(uc.workspace, store, since, until)
    whole = performance.known_actuals(uc.workspace, store)
    assert len(bounded) < len(whole)
    expected = baseline.predict(uc.workspace.spec, whole, rows)
    np.testing.assert_array_equal(baseline.predict(uc.workspace.spec, bounded, rows), expected)
    assert not np.isnan(expected[1::2]).all() if method == "last_value" else np.isnan(expected[1::2]).all()
    store.close()
