"""Retraining: a better challenger replaces the champion through the gate; a worse one is kept out.
Both with real searches on the served months' actuals, and the review → retrain → promotion links checked."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import datetime
from typing import Any

import mlflow
import pandas as pd
import pytest

from mlcycle.develop import registry
from mlcycle.develop.tracking import TAG, Tracker
from mlcycle.exceptions import UseCaseError
from mlcycle.monitor.retrain import retraining_data
from mlcycle.store import open_store
from tests.deploy.conftest import copy_use_case
from tests.monitor.conftest import edit_design, serve_period
from tests.monitor.test_review import bad_champion


def test_a_better_challenger_replaces_the_champion(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    tracker = Tracker(uc.state_dir, uc.name)
    bad = bad_champion(uc)
    serve_period(uc, "2011-08-31", "2011-10-07")
    uc.monitor_windows(since="2011-09-01")
    review = uc.review()
    # first a retrain killed (SIGKILL) at the worst moment: its challenger registered, the champion not yet moved
    killed = subprocess.run([sys.executable, "-c", _KILLED_AS_THE_CHAMPION_MOVES, str(uc.folder)], capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-3000:]
    assert registry.alias_version(tracker, uc.name, registry.CHAMPION) == bad  # untouched, and still loads
    assert mlflow.pyfunc.load_model(f"models:/{uc.name}@champion").metadata.run_id is not None
    versions = tracker.client.search_model_versions(f"name='{uc.name}'")
    orphan = max(versions, key=lambda v: int(v.version))
    assert int(orphan.version) > int(bad) and not orphan.aliases  # registered whole, never served
    assert all(f"{TAG}gate" in v.tags and f"{TAG}source_run" in v.tags for v in versions)
    # then the retrain runs again, to the end
    result = uc.retrain(trials=4, review_id=review.id)
    assert result.promoted, [(r.requirement, r.measured, r.passed) for r in result.gate.rows]
    new = result.gate.version
    assert registry.alias_version(tracker, uc.name, registry.CHAMPION) == new
    assert registry.alias_version(tracker, uc.name, registry.PREVIOUS) == bad
    challenge = result.gate.rows[-1]
    assert challenge.requirement == "beats the champion on the latest window" and challenge.passed
    assert result.scores["challenger"].money_lost < result.scores[bad].money_lost
    # the served months are in the training data: 2011-09-01 up to the held-out latest window
    assert result.served_rows > 0 and result.window[0].isoformat().startswith("2011-10-03")
    # the links: review → search run → promotion run → model version, and back
    version = tracker.client.get_model_version(uc.name, new)
    assert version.tags[f"{TAG}review_id"] == str(review.id) and version.tags[f"{TAG}replaces"] == bad
    search = tracker.client.get_run(result.experiment.parent_run_id)
    assert search.data.tags[f"{TAG}review_id"] == str(review.id) and search.data.tags[f"{TAG}retrain_of"] == bad
    stored = open_store(uc.state_dir).history.review(review.id)
    assert stored.action == "retrain" and stored.action_detail["new_version"] == new
    assert stored.action_detail["promotion_run"] == result.gate.promotion_run_id
    # what it cost is on the record, judged by the gate, and the new version has its model card
    retrains = [e for e in open_store(uc.state_dir).history.spend() if e.what == "retrain"]
    assert len(retrains) == 1 and retrains[0].run_id == result.experiment.parent_run_id and retrains[0].quantity > 0
    assert any(r.requirement == "within budget" for r in result.gate.rows)
    assert result.gate.model_card["json"].name == f"{uc.name}-v{new}.json" and result.gate.model_card["json"].is_file()


def test_a_worse_challenger_is_kept_out(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    tracker = Tracker(uc.state_dir, uc.name)
    champion = registry.alias_version(tracker, uc.name, registry.CHAMPION)
    serve_period(uc, "2011-08-31", "2011-10-07")
    uc.monitor_windows(since="2011-09-01")
    versions_before = len(tracker.client.search_model_versions(f"name='{uc.name}'"))

    def weak_search(
        design: dict[str, Any],
    ) -> None:  # only a ridge so regularised it predicts nearly a constant
        design["experiments"]["algorithms"] = {"ridge": {"alpha": {"low": 1e6, "high": 1e7, "log": True}}}
        design["experiments"]["data_variants"] = {"calendar": design["experiments"]["data_variants"]["calendar"]}

    uc = edit_design(uc.folder, weak_search)
    result = uc.retrain(trials=2)
    assert not result.promoted
    assert registry.alias_version(tracker, uc.name, registry.CHAMPION) == champion
    assert len(tracker.client.search_model_versions(f"name='{uc.name}'")) == versions_before  # nothing registered
    challenge = next(r for r in result.gate.rows if r.requirement == "beats the champion on the latest window")
    assert not challenge.passed and "more than the champion" in challenge.detail
    assert result.scores["challenger"].money_lost > result.scores[champion].money_lost
    assert f"version {champion} stays champion" in result.summary


def test_retraining_data_takes_the_fed_back_actuals(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    serve_period(uc, "2011-08-31", "2011-09-10", actual=lambda today: today["units"] + 1000)
    store = open_store(uc.state_dir)
    frame, served = retraining_data(uc.workspace, store, datetime(2011, 9, 8))
    september = frame[(frame["date"] > "2011-08-31") & (frame["date"] < "2011-09-08")]
    source = uc.data[(uc.data["date"] > "2011-08-31") & (uc.data["date"] < "2011-09-08")]
    assert served == len(september) == len(source) > 0
    assert (september["units"].to_numpy() == source["units"].to_numpy() + 1000).all()  # feedback wins
    assert frame["date"].max() < pd.Timestamp("2011-09-08")


def test_retrain_needs_a_monitored_window(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    with pytest.raises(UseCaseError, match="run `mlcycle monitor` first"):
        uc.retrain(trials=1)


# A real retrain in its own process, killed by SIGKILL the moment it asks MLflow to move the champion alias.
_KILLED_AS_THE_CHAMPION_MOVES = """
import os, signal, sys
from mlflow import MlflowClient
import mlcycle

move = MlflowClient.set_registered_model_alias

def killed_at_the_champion(self, name, alias, version):
    if alias == "champion":
        os.kill(os.getpid(), signal.SIGKILL)
    return move(self, name, alias, version)

MlflowClient.set_registered_model_alias = killed_at_the_champion
mlcycle.UseCase.load(sys.argv[1]).retrain(trials=2)
"""
