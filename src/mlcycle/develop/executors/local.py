"""The default executor: a pool of worker processes on this machine, one per core."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor

from mlcycle.develop.executors._base import Executor, Outcome, run
from mlcycle.develop.trial import TrialSpec, Workbench

_BENCH: Workbench | None = None  # set once per worker process by the pool's initializer


def _init_worker(bench: Workbench) -> None:
    """Each trial fits on one thread: the pool has a process per core already. Setting ``OMP_NUM_THREADS`` here
    came too late — the OpenMP runtimes read it when they are loaded, and unpickling the workbench had loaded
    scikit-learn's — so two workers ran two OpenMP threads each on two cores, spinning against each other: a
    quantile gradient boosting fitted five times slower in a worker than in the parent. The runtimes are loaded
    first, then limited where they stand (threadpoolctl, scikit-learn's own dependency)."""
    global _BENCH
    import lightgbm  # noqa: F401  (its OpenMP runtime, loaded so that the limit reaches it)
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"  # for any runtime loaded later
    threadpool_limits(1)
    _BENCH = bench


def _task(spec: TrialSpec, folds: list[int], measure_latency: bool) -> Outcome:
    assert _BENCH is not None, "worker started without a workbench"
    return run(_BENCH, spec, folds, measure_latency)


class LocalExecutor(Executor):
    """Worker processes started with ``spawn`` (safe next to the parent's MLflow and database threads)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    @property
    def slots(self) -> int:
        return self.workers

    def start(self, bench: Workbench) -> None:
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker, initargs=(bench,))

    def submit(self, spec: TrialSpec, folds: list[int], measure_latency: bool) -> Future[Outcome]:
        assert self._pool is not None, "call start() first"
        return self._pool.submit(_task, spec, folds, measure_latency)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
