"""One conformance suite every executor must pass: the local process pool and Ray tasks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from mlcycle.contract import spec
from mlcycle.develop.executors import Executor, get_executor
from mlcycle.develop.trial import TrialSpec, Workbench, fit_folds
from mlcycle.exceptions import UsageError
from tests.conftest import minimal_design, small_sales

EXECUTORS = ["local", "ray"]


@pytest.fixture(scope="module")
def bench() -> Workbench:
    frame = small_sales(days=90)
    frame["date"] = pd.to_datetime(frame["date"])
    return Workbench.create(spec.parse(minimal_design()), frame, folder=None)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=EXECUTORS)
def executor(request: pytest.FixtureRequest, bench: Workbench) -> Iterator[Executor]:
    with get_executor(request.param, workers=2) as pool:
        pool.start(bench)
        yield pool


GOOD = TrialSpec(1, "basic", "lightgbm", {"objective": "quantile", "n_estimators": 50})
# HistGradientBoosting refuses max_leaf_nodes=1: a real failure inside the worker, not a mock
BROKEN = TrialSpec(2, "basic", "gradient_boosting", {"loss": "quantile", "max_leaf_nodes": 1})


def test_runs_the_requested_folds_and_matches_in_process_work(executor: Executor, bench: Workbench) -> None:
    predictions, latency = executor.submit(GOOD, [1, 2], False).result(timeout=120)
    assert [p.fold for p in predictions] == [1, 2] and latency is None
    expected, _ = fit_folds(bench, GOOD, [1, 2])
    for got, want in zip(predictions, expected):
        np.testing.assert_allclose(got.predicted, want.predicted)
        np.testing.assert_array_equal(got.y_true, want.y_true)


def test_measures_latency_when_asked(executor: Executor) -> None:
    _, latency = executor.submit(GOOD, [0], True).result(timeout=120)
    assert latency is not None and latency.calls == 200 and latency.p95_ms > 0


def test_a_failing_task_raises_its_own_error_and_the_executor_goes_on(executor: Executor) -> None:
    with pytest.raises(ValueError, match="max_leaf_nodes"):
        executor.submit(BROKEN, [0], False).result(timeout=120)
    predictions, _ = executor.submit(GOOD, [0], False).result(timeout=120)
    assert len(predictions) == 1


def test_runs_tasks_concurrently(executor: Executor) -> None:
    assert executor.slots >= 1
    futures = [executor.submit(GOOD, [fold], False) for fold in (0, 1, 2, 0)]
    assert [f.result(timeout=120)[0][0].fold for f in futures] == [0, 1, 2, 0]


def test_unknown_executor_is_refused() -> None:
    with pytest.raises(UsageError, match="valid: local, ray"):
        get_executor("dask")
