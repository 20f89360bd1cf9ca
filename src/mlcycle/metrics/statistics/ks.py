"""Kolmogorov–Smirnov: the largest gap between the two cumulative distributions, and its p-value.

From the profile, the reference's cumulative distribution is known at its 1st … 99th
percentiles; the statistic is the largest gap there (exact to a percentile). With both raw
samples at hand, :func:`ks_raw` is scipy's ``ks_2samp`` itself.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from mlcycle.data.reference import ColumnProfile
from mlcycle.metrics.statistics._base import Measured, finite_sorted, profile_cdf

LEVELS = np.linspace(0.01, 0.99, 99)


class KS:
    name = "ks"
    kinds = frozenset({"numeric"})

    def compute(self, reference: ColumnProfile, current: np.ndarray) -> Measured:
        values = finite_sorted(current)
        if len(values) == 0 or reference.quantiles is None:
            return Measured(float("nan"))
        points = np.asarray(reference.quantiles)
        below = np.searchsorted(values, points, side="right") / len(values)
        return self.from_cdf(reference, below, len(values))

    def between(self, reference: ColumnProfile, current: ColumnProfile) -> Measured:
        if current.quantiles is None or reference.quantiles is None:
            return Measured(float("nan"))
        below = profile_cdf(current, np.asarray(reference.quantiles))
        return self.from_cdf(reference, below, current.count - current.missing)

    @staticmethod
    def from_cdf(reference: ColumnProfile, below: np.ndarray, m: int) -> Measured:
        statistic = float(np.max(np.abs(below - LEVELS)))
        n = reference.count - reference.missing
        effective = n * m / (n + m)
        return Measured(statistic, float(stats.kstwo.sf(statistic, max(1, round(effective)))))


def ks_raw(reference: np.ndarray, current: np.ndarray) -> Measured:
    result = stats.ks_2samp(reference, current)
    return Measured(float(result.statistic), float(result.pvalue))
