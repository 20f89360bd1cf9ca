"""The drift statistic contract: compare a column of current data with its reference profile.

Each statistic is one module registered by name. ``compute`` takes the column's
:class:`~mlcycle.monitor.profile.ColumnProfile` (never the raw training data) and the current
values, and returns an effect size — larger means more drift, compared with the design's
``warn`` / ``alert`` thresholds — plus a p-value where the statistic has one. Effect sizes,
not p-values, decide drift by default: on a million rows a p-value test flags differences too
small to matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from mlcycle.monitor.profile import ColumnProfile

EPSILON = 1e-4  # share given to an empty bin, so a log or a ratio stays finite


@dataclass(frozen=True)
class Measured:
    value: float
    p_value: float | None = None


class Statistic(Protocol):
    name: str
    kinds: frozenset[str]  # "numeric", "categorical"

    def compute(self, reference: ColumnProfile, current: np.ndarray) -> Measured: ...


def binned_shares(reference: ColumnProfile, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current shares over the reference's bins (numeric) or categories (categorical)."""
    if reference.kind == "numeric":
        values = current[np.isfinite(current)].astype(float)
        edges = np.asarray(reference.edges or [], dtype=float)
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        ref = np.asarray(reference.shares, dtype=float)
    else:
        categories = list(reference.categories or [])
        index = {c: i for i, c in enumerate(categories)}
        other = index.get("__other__")
        codes = np.array([index.get(str(v), -1) for v in current if v is not None and v == v], dtype=np.int64)
        unseen = int((codes == -1).sum())
        counts = np.bincount(codes[codes >= 0], minlength=len(categories)).astype(float)
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
    values = [str(v) for v in current if v is not None and v == v]
    return float(np.mean([v not in known for v in values])) if values else 0.0
