"""A real MLflow tracking store with trials logged as mlcycle logs them, read by both leaderboards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mlcycle.ui.leaderboard import Leaderboard, open_leaderboard
from mlcycle.ui.leaderboard.client import ClientLeaderboard


def log_trials(uri: str, experiment: str, count: int, seed: int = 0) -> list[str]:
    """``count`` trials with mlcycle's tags, params and metrics in two searches (the first 30, then the rest, as
    a retrain would add); every 7th was pruned (no metrics)."""
    import time

    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    rng = np.random.default_rng(seed)
    ids = []
    search = client.create_run(experiment_id, run_name="search-a", tags={"mlcycle.kind": "search"}).info.run_id
    for number in range(count):
        if number == 30:
            search = client.create_run(experiment_id, run_name="search-b", tags={"mlcycle.kind": "search"}).info.run_id
            client.log_batch(search, metrics=[Metric("mae", 0.1, 0, 0)])  # a search is not a trial: never listed
        run = client.create_run(experiment_id, run_name=f"trial-{number:03d}", tags={"mlcycle.kind": "trial"})
        pruned = number % 7 == 6
        now = int(time.time() * 1000)
        mae = float(rng.uniform(2, 9))
        metrics = (
            []
            if pruned
            else [
                Metric("mae", mae, now, 0),
                Metric("net_value", float(5000 - 400 * mae + rng.normal(0, 100)), now, 0),
                Metric("baseline_mae", 7.5, now, 0),
                Metric("baseline_net_value", 0.0, now, 0),
            ]
        )
        client.log_batch(
            run.info.run_id,
            metrics=metrics,
            params=[
                Param("algorithm", ["lightgbm", "ridge", "random_forest"][number % 3]),
                Param("variant", ["base", "with_lags"][number % 2]),
                Param("learning_rate", f"{rng.uniform(0.01, 0.3):.3f}"),
            ],
            tags=[
                RunTag("mlcycle.state", "pruned" if pruned else "complete"),
                RunTag("mlcycle.trial", str(number)),
                RunTag("mlcycle.feasible", str(mae < 6).lower()),
                RunTag("mlflow.parentRunId", search),
            ],
        )
        ids.append(run.info.run_id)
    return ids


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    folder = tmp_path_factory.mktemp("tracked")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    return uri, log_trials(uri, "shop", 45)


@pytest.fixture(params=["sql", "client"])
def board(request: pytest.FixtureRequest, tracked: tuple[str, list[str]]) -> Leaderboard:
    uri, _ = tracked
    return open_leaderboard(uri, "shop") if request.param == "sql" else ClientLeaderboard(uri, "shop")


@pytest.fixture
def make_board() -> Callable[[Path], Leaderboard]:
    return lambda folder: open_leaderboard(f"sqlite:///{folder / 'mlflow.db'}", "nothing-yet")
