"""Scale-out executor: the same work as plain Ray tasks (not Ray Tune), on a cluster or a local Ray.

Install with ``pip install 'mlcycle[ray]'``. Ray is imported only when this executor is
used. With ``address`` None a local Ray instance is started (and stopped on close);
otherwise the executor joins the cluster at ``address`` and leaves it running.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from mlcycle.data.distributed import ray_module
from mlcycle.develop.executors._base import Executor, Outcome, run
from mlcycle.develop.trial import TrialSpec, Workbench

RETRIES_ON_LOST_NODE = 1


def run_on_node(bench: Workbench, spec: TrialSpec, folds: list[int], measure_latency: bool) -> Outcome:
    """:func:`run` in a Ray task, its predictions stamped with the Ray node that computed them (on a cluster
    several nodes share a host name; the node id is what tells them apart — and what ``ray status`` lists)."""
    node = ray_module().get_runtime_context().get_node_id()
    return run(bench, spec, folds, measure_latency, worker=f"ray node {node}")


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        self.address = address
        self.workers = workers
        self._ray = ray_module()
        self._started_here = False
        self._bench_ref: Any = None
        self._remote: Any = None

    @property
    def slots(self) -> int:
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def start(self, bench: Workbench) -> None:
        ray = self._ray
        if not ray.is_initialized():
            options: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
            if self.address:
                ray.init(address=self.address, **options)
            else:
                ray.init(num_cpus=self.workers, **options)
                self._started_here = True
        self._bench_ref = ray.put(bench)  # shipped to the object store once, shared by every task
        # a task whose worker or node dies is run once more elsewhere (Ray retries only such system failures);
        # a trial's own exception is not retried: it is the trial's result
        self._remote = ray.remote(num_cpus=1, max_retries=RETRIES_ON_LOST_NODE)(run_on_node)

    def submit(self, spec: TrialSpec, folds: list[int], measure_latency: bool) -> Future[Outcome]:
        assert self._remote is not None, "call start() first"
        reference = self._remote.remote(self._bench_ref, spec, folds, measure_latency)
        future: Future[Outcome] = Future()

        def settle(done: Future[Any]) -> None:
            error = done.exception()
            if error is None:
                future.set_result(done.result())
            else:
                cause = getattr(error, "cause", None)  # a RayTaskError wraps the task's own exception
                future.set_exception(cause if isinstance(cause, BaseException) else error)

        reference.future().add_done_callback(settle)
        return future

    def close(self) -> None:
        if self._started_here and self._ray.is_initialized():
            self._ray.shutdown()
        self._started_here = False
