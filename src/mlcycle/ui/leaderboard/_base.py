"""The leaderboard's contract: one page of an experiment's trials, sorted and filtered by the store.

A page is asked for by a :class:`Query` — a sort column, filters, an offset and a limit — and
the backend answers with that slice and the total, never with every run: MLflow's own UI
lists runs by loading them into the browser and freezes with thousands of them (mlflow
issues 1517, 11927, 21841); the dashboard must stay fast with 10,000 trials.

What every backend promises:

- **Order** — by the sort column, missing values last whatever the direction, ties broken by
  the run id so pages never overlap or skip a trial.
- **Filters** — the search (its MLflow parent run), algorithm, data variant, gate status
  (``feasible`` / ``infeasible``: the search's constraints, i.e. the design's requirements, were
  met or not) and trial state (``complete``, ``pruned``, ``failed``) combine with AND; ``total``
  counts the filtered trials.
- **Reads only** — nothing is written; the trials are the ones MLflow tracked (``mlcycle.kind =
  trial``), read where MLflow keeps them, never from a copy.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field, replace

from mlcycle.exceptions import UsageError

# The tags mlcycle's tracker writes on each trial run (develop/tracking.py), and MLflow's own parent link.
KIND, STATE, FEASIBLE, NUMBER = "mlcycle.kind", "mlcycle.state", "mlcycle.feasible", "mlcycle.trial"
PARENT = "mlflow.parentRunId"
STATES = ("complete", "pruned", "failed")
GATES = ("feasible", "infeasible")
PAGE_SIZES = (10, 25, 50, 100, 200)


@dataclass(frozen=True)
class Query:
    """Which slice of the trials to show. ``sort`` is ``trial`` (the search's order), ``metric:<name>`` or
    ``param:<name>``."""

    sort: str = "trial"
    descending: bool = False
    algorithm: str | None = None
    variant: str | None = None
    gate: str | None = None
    state: str | None = None
    search: str | None = None  # the run id of one search (the trials' MLflow parent run)
    offset: int = 0
    limit: int = 50

    def __post_init__(self) -> None:
        kind, _, name = self.sort.partition(":")
        if self.sort != "trial" and (kind not in ("metric", "param") or not name):
            raise UsageError(f"sort must be 'trial', 'metric:<name>' or 'param:<name>'. Got {self.sort!r}")
        if self.gate is not None and self.gate not in GATES:
            raise UsageError(f"gate must be one of {', '.join(GATES)}. Got {self.gate!r}")
        if self.state is not None and self.state not in STATES:
            raise UsageError(f"state must be one of {', '.join(STATES)}. Got {self.state!r}")
        if self.offset < 0 or not 1 <= self.limit <= max(PAGE_SIZES):
            raise UsageError(f"a page starts at 0 or later and holds 1 to {max(PAGE_SIZES)} trials")

    def page(self, offset: int) -> Query:
        return replace(self, offset=max(0, offset))


@dataclass(frozen=True)
class Trial:
    """One tracked trial as the leaderboard shows it."""

    run_id: str
    number: int | None
    state: str | None
    feasible: bool | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    search: str | None = None  # the run id of the search it belongs to (trial numbers restart in each search)

    @property
    def algorithm(self) -> str:
        return self.params.get("algorithm", "")

    @property
    def variant(self) -> str:
        return self.params.get("variant", "")


@dataclass(frozen=True)
class Page:
    trials: list[Trial]
    total: int
    query: Query

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.limit))

    @property
    def number(self) -> int:
        return self.query.offset // self.query.limit + 1


@dataclass(frozen=True)
class Points:
    """Two metrics of every (filtered) trial, for the trade-off chart: parallel lists, one entry per trial."""

    x: str
    y: str
    run_ids: list[str]
    numbers: list[int | None]
    algorithms: list[str]
    xs: list[float]
    ys: list[float]


class Leaderboard(abc.ABC):
    """An experiment's tracked trials, read a page at a time."""

    @abc.abstractmethod
    def page(self, query: Query) -> Page:
        """The trials of ``query``'s slice, in its order, and how many trials pass its filters."""

    @abc.abstractmethod
    def trials(self, run_ids: list[str]) -> list[Trial]:
        """These trials with every param and metric, in the order asked (unknown ids are left out)."""

    @abc.abstractmethod
    def points(self, x: str, y: str, query: Query | None = None) -> Points:
        """Metrics ``x`` and ``y`` of every trial that passes ``query``'s filters and has both."""

    @abc.abstractmethod
    def choices(self) -> tuple[list[str], list[str]]:
        """The algorithms and data variants the trials used, for the filters."""

    @abc.abstractmethod
    def searches(self) -> list[tuple[str, str]]:
        """The experiment's searches as (run id, run name), oldest first — a retrain is a search of its own."""

    @abc.abstractmethod
    def baseline(self) -> dict[str, float]:
        """Today's process on the same folds (the ``baseline_<metric>`` figures of the latest trial), by metric."""


def number_of(value: str | None) -> int | None:
    """A trial's number from its tag (None when missing or not a number)."""
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def trial_from(run_id: str, params: dict[str, str], metrics: dict[str, float], marks: dict[str, str]) -> Trial:
    """A trial from what MLflow keeps of its run; ``marks`` are its mlcycle tags (and its parent run)."""
    feasible = marks.get(FEASIBLE)
    return Trial(
        run_id=run_id,
        number=number_of(marks.get(NUMBER)),
        state=marks.get(STATE),
        feasible=None if feasible is None else feasible == "true",
        params=params,
        metrics=metrics,
        search=marks.get(PARENT),
    )
