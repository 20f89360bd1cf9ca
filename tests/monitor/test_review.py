"""The review's four verdicts on crafted histories, each served for real through the service.

- too little evidence → healthy, saying how much is missing;
- lenient thresholds on the real months → healthy;
- a price change in the latest week → retrain (drift while the process still pays);
- actuals that repeat last week exactly (today's process is perfect) → retire;
- a deliberately bad champion over a good previous version → rollback, and the rollback itself.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import mlcycle
from mlcycle.cli import app
from mlcycle.deploy import create_app
from mlcycle.develop import registry
from mlcycle.develop.tracking import Tracker
from mlcycle.exceptions import UseCaseError
from mlcycle.monitor.review import EXIT_CODES
from mlcycle.store import open_store
from tests.deploy.conftest import copy_use_case, sales_rows
from tests.monitor.conftest import edit_design, serve_period

runner = CliRunner()


def bad_champion(uc: mlcycle.UseCase) -> str:
    """Register, over the gate's objection, a model that learned to order three times what sells.

    Returns its version."""
    frame = uc.data.copy()
    frame["units"] = frame["units"] * 3
    twin = uc.with_frame(frame, uc.spec.data.train_until)
    result = twin.experiment(trials=2, report=False)
    report = twin.promote(result.best_run_id, force=True, reason="test: a deliberately bad model")
    return str(report.version)


def test_too_little_evidence_is_healthy_and_says_so(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    serve_period(uc, "2011-08-31", "2011-09-14", feedback=37)
    uc.monitor_windows(since="2011-09-01")
    review = uc.review()
    assert review.verdict == "healthy" and review.exit_code == 0
    # the champion's estimator speaks meanwhile, marked as an estimate and kept apart from realised money
    assert review.reasons[0].startswith("estimated: added value") and review.numbers["basis"] == "estimated"
    assert review.reasons[1].startswith("insufficient evidence on realised money: 37 labelled predictions, 200 needed")
    assert "realised_value" not in review.numbers


def test_without_actuals_the_review_judges_on_estimated_money(promoted_example: Any, tmp_path: Any) -> None:
    """No actual back yet, and running the model now costs 60,000 a month: what it saves cannot cover that —
    the estimator (DLE) says so from the predictions alone, and the review retires it, marked as estimated."""
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    uc = edit_design(uc.folder, lambda d: d["value"].update(running_cost_per_period=60_000))
    serve_period(uc, "2011-08-31", "2011-09-28", feedback=False)  # lags need actuals beyond 28 days
    windows = uc.monitor_windows(since="2011-09-05")
    assert len(windows) >= 4 and all(w.performance.labelled == 0 for w in windows)
    assert all(w.performance.estimated["figures"]["net_value"] < 0 for w in windows)  # type: ignore[index]
    review = uc.review()
    assert review.verdict == "retire" and review.numbers["basis"] == "estimated"
    assert (
        review.reasons[0].startswith("estimated: in each of the last 4 windows")
        and "whole interval" in review.reasons[0]
    )
    assert review.numbers["estimated_interval"]["high"] < 0


def test_healthy_when_nothing_crosses_a_threshold(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    uc = edit_design(
        uc.folder,
        lambda d: d["monitoring"].update(
            drift={"alert": 5.0, "warn": 5.0},
            performance={"metric": "mae", "alert_above": 1000},
            value={"alert_below_fraction_of_estimate": 0.01},
        ),
    )
    serve_period(uc, "2011-08-31", "2011-10-07")
    uc.monitor_windows(since="2011-09-01")
    review = uc.review()
    assert review.verdict == "healthy", review.reasons
    assert review.numbers["labelled"] >= 200 and review.numbers["realised_value"] > 0
    assert "realised added value" in review.reasons[0]
    stored = open_store(uc.state_dir).history.reviews()[-1]
    assert stored.verdict == "healthy" and stored.model_version == review.model_version
    assert "<strong>healthy</strong>" in (uc.reports_dir / "monitoring.html").read_text(encoding="utf-8")


def test_a_price_change_calls_for_retraining(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")

    def price_rise(rows: Any) -> Any:
        rows.loc[rows["date"] >= "2011-10-03", "price"] *= 2.5
        return rows

    serve_period(uc, "2011-08-31", "2011-10-07", transform=price_rise)
    uc.monitor_windows(since="2011-09-01")
    review = uc.review()
    assert review.verdict == "retrain" and review.exit_code == EXIT_CODES["retrain"] == 3
    assert any(r.startswith("price drifted") for r in review.reasons)
    assert review.numbers["realised_value"] > 0 and "still pays" in review.reasons[-1]


def test_a_model_that_no_longer_pays_is_retired(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    constant = lambda today: np.full(len(today), 40.0)  # noqa: E731 — every product sells 40 a day: last week is exact
    serve_period(uc, "2011-08-31", "2011-10-07", actual=constant)
    windows = uc.monitor_windows(since="2011-09-12")
    assert all(w.performance.realised_value < 0 for w in windows)
    result = runner.invoke(app, ["review", "-u", str(uc.folder)])
    assert result.exit_code == 5, result.output
    assert "RETIRE" in result.output and "no longer pays" in result.output
    retired = runner.invoke(app, ["retire", "-u", str(uc.folder), "--reason", "the shop orders by hand again"])
    assert retired.exit_code == 0
    with TestClient(create_app(uc.workspace)) as client:
        gone = client.post("/predict", json={"records": sales_rows(uc, 1)})
        assert gone.status_code == 410 and "the shop orders by hand again" in gone.json()["detail"]
        assert client.get("/health").json()["status"] == "retired"
        assert client.get("/v2/health/ready").status_code == 503
    store = open_store(uc.state_dir)
    assert store.predictions.count() > 0  # history kept
    assert store.history.reviews()[-1].action == "retire"


def test_a_worse_champion_than_previous_is_rolled_back(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    tracker = Tracker(uc.state_dir, uc.name)
    good = registry.alias_version(tracker, uc.name, registry.CHAMPION)
    bad = bad_champion(uc)
    assert registry.alias_version(tracker, uc.name, registry.PREVIOUS) == good
    serve_period(uc, "2011-08-31", "2011-10-07")  # served by the bad champion
    uc.monitor_windows(since="2011-09-01")
    review = uc.review()
    assert review.verdict == "rollback" and review.exit_code == 4, review.reasons
    shadow = review.numbers["shadow"]
    assert shadow[good]["money_lost"] < shadow[bad]["money_lost"] * 0.95
    assert shadow[good]["rows"] == shadow[bad]["rows"] >= 200
    with TestClient(create_app(uc.workspace, poll_seconds=0.2)) as client:
        assert client.get("/version").json()["version"] == bad
        result = runner.invoke(app, ["rollback", "-u", str(uc.folder)])
        assert result.exit_code == 0 and f"champion is version {good} again" in result.output
        deadline = time.monotonic() + 20
        while client.get("/version").json()["version"] != good and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.get("/version").json()["version"] == good  # the running service followed, no restart
    assert registry.alias_version(tracker, uc.name, registry.CHAMPION) == good
    assert open_store(uc.state_dir).history.reviews()[-1].action_detail == {"from": bad, "to": good}
    with pytest.raises(UseCaseError, match="nothing to roll back to"):
        uc.rollback()


def test_a_champion_never_monitored_is_healthy_for_want_of_evidence(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    review = uc.review()
    assert review.verdict == "healthy" and review.numbers["windows"] == 0
    assert review.reasons[0].startswith("insufficient evidence: 0 labelled predictions, 200 needed")


def test_review_without_a_champion_is_bad_input(tmp_path: Any, example_dir: Any) -> None:
    import shutil

    shutil.copytree(example_dir, tmp_path / "uc")
    result = runner.invoke(app, ["review", "-u", str(tmp_path / "uc")])
    assert result.exit_code == 2 and "nothing to review yet" in result.stderr
