"""The search on a Ray cluster of several nodes (``ray.cluster_utils.Cluster``, as Ray's own tests build one):
tasks spread over the nodes, and a node lost in the middle of a search costs at most its running trials."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import mlflow
import pandas as pd
import pytest
import ray
from ray.cluster_utils import Cluster

import mlcycle
from mlcycle.contract import spec
from mlcycle.develop.executors import get_executor
from mlcycle.develop.search import ExperimentResult
from mlcycle.develop.trial import TrialSpec, Workbench
from tests.conftest import minimal_design, small_sales

GOOD = TrialSpec(1, "basic", "lightgbm", {"objective": "quantile", "n_estimators": 200})


@pytest.fixture()
def cluster() -> Iterator[Cluster]:
    """A head and one worker node of one CPU each: two tasks at once, necessarily one on each node."""
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_tasks_land_on_every_node(cluster: Cluster) -> None:
    frame = small_sales(days=90)
    frame["date"] = pd.to_datetime(frame["date"])
    bench = Workbench.create(spec.parse(minimal_design()), frame, folder=None)  # type: ignore[arg-type]
    with get_executor("ray", address=cluster.address) as pool:
        pool.start(bench)
        assert pool.slots == 2
        futures = [pool.submit(GOOD, [fold], False) for fold in (0, 1, 2, 0, 1, 2)]
        workers = {f.result(timeout=180)[0][0].worker for f in futures}
    nodes = {node["NodeID"] for node in ray.nodes()}
    assert {w.removeprefix("ray node ") for w in workers} == nodes and len(nodes) == 2


def test_a_node_lost_mid_search_costs_at_most_its_running_trials(make_use_case: Any, cluster: Cluster) -> None:
    design = minimal_design()
    design["experiments"] = {
        "data_variants": {"basic": {"features": ["item", "price", "day_of_week"]}},
        # fits of a few seconds each, so that the loss finds a trial running on the worker node
        "algorithms": {"gradient_boosting": {"max_iter": {"low": 400, "high": 600}, "loss": ["quantile"]}},
        "search": {"trials": 8, "sampler": "random"},
    }
    uc = mlcycle.UseCase.load(make_use_case(design, small_sales(days=400, items=tuple("ABCDEF"))))
    outcome: dict[str, ExperimentResult | BaseException] = {}

    def search() -> None:
        try:
            outcome["result"] = uc.experiment(executor="ray", address=cluster.address, report=False)
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    searching = threading.Thread(target=search)
    searching.start()
    # both nodes busy (no CPU left on the cluster: Ray leaves the key out) means a trial is running on the worker
    # node: kill it then
    deadline = time.monotonic() + 120
    while not (ray.is_initialized() and ray.available_resources().get("CPU", 0) < 1):
        assert "error" not in outcome, outcome["error"]
        assert time.monotonic() < deadline and searching.is_alive(), "the search ended before both nodes were busy"
        time.sleep(0.05)
    worker = next(node for node in cluster.list_all_nodes() if not node.head)
    cluster.remove_node(worker, allow_graceful=False)
    searching.join(timeout=300)
    assert not searching.is_alive(), "the search did not finish after losing a node"
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert isinstance(result, ExperimentResult)
    assert len(result.trials) == 8 and sum(t.state == "failed" for t in result.trials) <= 1
    assert result.best is not None and result.best.state == "complete"
    assert [n["NodeID"] for n in ray.nodes() if n["Alive"]] == [cluster.head_node.node_id]
    # each trial's run says where it was fitted: after the loss, only the head is left to fit anything
    mlflow.set_tracking_uri(f"sqlite:///{uc.state_dir / 'mlflow.db'}")
    runs = mlflow.search_runs(
        experiment_names=["small-sales"], filter_string="tags.`mlcycle.kind` = 'trial'", output_format="list"
    )
    assert len(runs) == 8 and all(r.data.tags.get("mlcycle.worker", "").startswith("ray node ") for r in runs)
