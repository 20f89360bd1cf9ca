"""The names the registries tell the contract: metrics, algorithms, drift statistics and alert sinks.

The contract sits at the bottom of mlcycle and imports nothing of it, yet a design names
things that live higher up — ``mae`` in the metric catalogue, ``lightgbm`` among the
algorithms, ``psi`` among the drift statistics, ``webhook`` among the alert sinks. Each of
those registries *tells* this module what it holds when it is imported (``tell``), and the
contract checks a design against what it has been told. ``mlcycle/__init__.py`` imports every
registry, so by the time any design is read the vocabulary is whole (a test of the
contract reads a design with nothing but ``mlcycle.contract`` imported by name, and the
architecture test keeps the registries' imports in ``mlcycle/__init__.py``).

A registry adds one term per name; telling a name twice replaces the term (a reload).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

View = Literal["data_scientist", "domain_expert", "business"]
Direction = Literal["lower", "higher", "zero"]


@dataclass(frozen=True)
class MetricTerm:
    """A metric of the catalogue, as far as the contract needs it: who reads it, which tasks, which way is better."""

    name: str
    view: View
    tasks: frozenset[str]
    direction: Direction


@dataclass(frozen=True)
class AlgorithmTerm:
    """An algorithm: the tasks it fits, the hyperparameters mlcycle tunes, those with a default range, and
    the most a design may ask of those a fit's work grows with."""

    name: str
    tasks: frozenset[str]
    tunable: tuple[str, ...]
    searched: tuple[str, ...]
    ceilings: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StatisticTerm:
    """A drift statistic and the column kinds (numeric, categorical) it can measure."""

    name: str
    kinds: frozenset[str]


@dataclass
class Vocabulary:
    """Everything told so far, in the order it was told (the order error messages list valid names in)."""

    metrics: dict[str, MetricTerm] = field(default_factory=dict)
    algorithms: dict[str, AlgorithmTerm] = field(default_factory=dict)
    statistics: dict[str, StatisticTerm] = field(default_factory=dict)
    sinks: list[str] = field(default_factory=list)
    # "file.py:function" metrics are loaded from the use-case folder by the catalogue; the
    # contract only asks whether one loads, and the catalogue tells it how to ask.
    user_metric_problem: Callable[[str, Path], str | None] | None = None

    def metric_names(self, task: str, view: View | None = None) -> list[str]:
        """Metrics that fit ``task`` (and ``view``); without a view, every view but business."""
        return [
            m.name
            for m in self.metrics.values()
            if task in m.tasks and (m.view == view if view else m.view != "business")
        ]

    def algorithm_names(self, task: str) -> list[str]:
        return [a.name for a in self.algorithms.values() if task in a.tasks]

    def statistic_names(self, kind: str | None = None) -> list[str]:
        return [s.name for s in self.statistics.values() if kind is None or kind in s.kinds]


_TOLD = Vocabulary()


def tell(term: MetricTerm | AlgorithmTerm | StatisticTerm) -> None:
    """Called by a registry for each name it holds, when it is imported."""
    if isinstance(term, MetricTerm):
        _TOLD.metrics[term.name] = term
    elif isinstance(term, AlgorithmTerm):
        _TOLD.algorithms[term.name] = term
    else:
        _TOLD.statistics[term.name] = term


def tell_sink(name: str) -> None:
    """Called by the alert module for each kind of sink a design may name."""
    if name not in _TOLD.sinks:
        _TOLD.sinks.append(name)


def tell_user_metric_check(check: Callable[[str, Path], str | None]) -> None:
    """The catalogue's check that ``file.py:function`` loads from a folder: a problem, or None."""
    _TOLD.user_metric_problem = check


def vocabulary() -> Vocabulary:
    """What the registries have told. Importing any part of ``mlcycle`` runs its ``__init__``, which tells all."""
    return _TOLD
