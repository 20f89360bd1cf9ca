"""Kolmogorov–Smirnov: the largest gap between the two cumulative distributions, and its p-value.

From the profile, the reference's cumulative distribution is known at its 1st … 99th
percentiles; the statistic is the largest gap there (exact to a percentile). With both raw
samples at hand, :func:`ks_raw` is scipy's ``ks_2samp`` itself.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from mlcycle.monitor.profile import ColumnProfile
from mlcycle.monitor.statistics._base import Measured

LEVELS = np.linspace(0.01, 0.99, 99)


class KS:
    name = "ks"
    kinds = frozenset({"numeric"})

    def compute(self, reference: ColumnProfile, current: np.ndarray) -> Measured:
        values = np.sort(current[np.isfinite(current)].astype(float))
        if len(values) == 0 or reference.quantiles is None:
            return Measured(float("nan"))
        points = np.asarray(reference.quantiles)
        below = np.searchsorted(values, points, side="right") / len(values)
        statistic = float(np.max(np.abs(below - LEVELS)))
        n, m = reference.count - reference.missing, len(values)
        effective = n * m / (n + m)
        return Measured(statistic, float(stats.kstwo.sf(statistic, max(1, round(effective)))))


def ks_raw(reference: np.ndarray, current: np.ndarray) -> Measured:
    result = stats.ks_2samp(reference, current)
    return Measured(float(result.statistic), float(result.pvalue))
