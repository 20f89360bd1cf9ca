"""The executor contract: run pure functions in parallel and hand back futures.

The search's parent process owns every stateful thing (the Optuna study, MLflow); an
executor only runs :func:`mlcycle.develop.trial.fit_folds` somewhere else. The contract:

- ``start(bench)`` ships the :class:`~mlcycle.develop.trial.Workbench` (design, training
  rows, folds) to the workers once; tasks then carry only a trial spec;
- ``submit(spec, folds, measure_latency)`` returns a ``concurrent.futures.Future`` whose
  result is what ``fit_folds`` returns, or whose exception is what it raised — a failing
  task must never take the executor down;
- ``slots`` is how many tasks run at once (the search keeps that many in flight);
- ``close()`` releases the workers; an executor is also a context manager.
"""

from __future__ import annotations

import abc
import os
import socket
from concurrent.futures import Future
from typing import Any

from mlcycle.develop.trial import Latency, TrialSpec, Workbench, fit_folds

Outcome = tuple[list[Any], Latency | None]


def run(bench: Workbench, spec: TrialSpec, folds: list[int], measure_latency: bool, worker: str = "") -> Outcome:
    """The unit of work every executor runs (a module-level function, so it pickles by name). Each fold's
    predictions say where they were computed: ``worker``, else this host and process."""
    predictions, latency = fit_folds(bench, spec, folds, measure_latency=measure_latency)
    where = worker or f"{socket.gethostname()} pid {os.getpid()}"
    for fold in predictions:
        fold.worker = where
    return predictions, latency


class Executor(abc.ABC):
    name: str = ""

    @property
    @abc.abstractmethod
    def slots(self) -> int: ...

    @abc.abstractmethod
    def start(self, bench: Workbench) -> None: ...

    @abc.abstractmethod
    def submit(self, spec: TrialSpec, folds: list[int], measure_latency: bool) -> Future[Outcome]: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
