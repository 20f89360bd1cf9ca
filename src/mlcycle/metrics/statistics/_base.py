"""The drift statistic contract: compare a column of current data with its reference profile.

Each statistic is one module registered by name. ``compute`` takes the column's
:class:`~mlcycle.data.reference.ColumnProfile` (never the raw training data) and the current
values, and returns an effect size — larger means more drift, compared with the design's
``warn`` / ``alert`` thresholds — plus a p-value where the statistic has one. Effect sizes,
not p-values, decide drift by default: on a million rows a p-value test flags differences too
small to matter.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from mlcycle.data.reference import ColumnProfile

EPSILON = 1e-4  # share given to an empty bin, so a log or a ratio stays finite


@dataclass(frozen=True)
class Measured:
    value: float
    p_value: float | None = None


class Statistic(Protocol):
    name: str
    kinds: frozenset[str]  # "numeric", "categorical"

    def compute(self, reference: ColumnProfile, current: np.ndarray) -> Measured: ...

    def between(self, reference: ColumnProfile, current: ColumnProfile) -> Measured:
        """The same from two profiles — for data streamed in chunks, never held whole."""
        ...


def finite_sorted(current: np.ndarray) -> np.ndarray:
    values = np.asarray(current, dtype=float)
    return np.sort(values[np.isfinite(values)])


def category_counts(current: np.ndarray | pd.Series) -> dict[str, int]:
    """Counts of each category as text (missing values left out), hashed in C rather than looped in Python."""
    counts = (current if isinstance(current, pd.Series) else pd.Series(current, dtype=object)).value_counts(dropna=True)
    out: dict[str, int] = {}
    for value, count in counts.items():
        key = str(value)
        out[key] = out.get(key, 0) + int(count)
    return out


def binned_shares(reference: ColumnProfile, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current shares over the reference's bins (numeric) or categories (categorical)."""
    if reference.kind == "numeric":
        values = finite_sorted(current)
        edges = np.asarray(reference.edges or [], dtype=float)
        cuts = np.searchsorted(values, edges, side="left")  # sorted: a bin's count is a difference of positions
        counts = np.diff(np.concatenate([[0], cuts, [len(values)]])).astype(float)
        ref = np.asarray(reference.shares, dtype=float)
    else:
        categories = list(reference.categories or [])
        index = {c: i for i, c in enumerate(categories)}
        other = index.get("__other__")
        counts = np.zeros(len(categories), dtype=float)
        unseen = 0
        for value, count in category_counts(current).items():
            if value in index:
                counts[index[value]] += count
            else:
                unseen += count
        if other is not None:
            counts[other] += unseen
            ref = np.asarray(reference.shares, dtype=float)
        else:  # values the reference never saw get a bin of their own
            counts = np.append(counts, unseen)
            ref = np.append(np.asarray(reference.shares, dtype=float), 0.0)
    total = counts.sum()
    cur = counts / total if total else np.zeros_like(counts, dtype=float)
    return ref, cur


def unseen_share(reference: ColumnProfile, current: np.ndarray) -> float:
    """Share of current categorical values the reference never saw."""
    known = set(reference.categories or [])
    counts = category_counts(current)
    total = sum(counts.values())
    return sum(c for v, c in counts.items() if v not in known) / total if total else 0.0


LEVELS = np.linspace(0.01, 0.99, 99)


def profile_cdf(profile: ColumnProfile, points: np.ndarray) -> np.ndarray:
    """A numeric profile's cumulative share at ``points``, read from its percentiles (linear between them)."""
    xs = np.array([profile.minimum, *(profile.quantiles or []), profile.maximum], dtype=float)
    ys = np.array([0.0, *LEVELS, 1.0])
    return np.interp(points, xs, ys, left=0.0, right=1.0)


def profile_shares(reference: ColumnProfile, current: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`binned_shares`, with the current data known only by its profile."""
    if reference.kind == "numeric":
        cdf = profile_cdf(current, np.asarray(reference.edges or [], dtype=float))
        cur = np.diff(np.concatenate([[0.0], cdf, [1.0]]))
        return np.asarray(reference.shares, dtype=float), cur
    counts = dict(zip(current.categories or [], current.shares or []))
    index = {c: i for i, c in enumerate(reference.categories or [])}
    cur = np.zeros(len(index))
    unseen = 0.0
    for value, share in counts.items():
        if value in index and value != "__other__":
            cur[index[value]] += share
        else:
            unseen += share
    ref = np.asarray(reference.shares, dtype=float)
    if "__other__" in index:
        cur[index["__other__"]] += unseen
    else:
        cur, ref = np.append(cur, unseen), np.append(ref, 0.0)
    return ref, cur


class SharesStatistic(ABC):
    """A statistic of two share vectors (the reference's bins or categories): the same measure from raw
    values and from a profile. Subclasses give ``from_shares``."""

    def compute(self, reference: ColumnProfile, current: np.ndarray) -> Measured:
        return self.from_shares(*binned_shares(reference, current))

    def between(self, reference: ColumnProfile, current: ColumnProfile) -> Measured:
        return self.from_shares(*profile_shares(reference, current))

    @abstractmethod
    def from_shares(self, ref: np.ndarray, cur: np.ndarray) -> Measured:
        """The statistic from the reference's and the current shares over the same bins or categories."""
