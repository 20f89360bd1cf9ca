"""Wasserstein (earth mover's) distance, normalised by the reference's standard deviation.

From the profile: the mean absolute gap between the reference's and the current 1st … 99th
percentiles — the quantile form of W1 — divided by the reference's spread, so 0.1 means
"the distribution moved by a tenth of a standard deviation", whatever the column's unit.
"""

from __future__ import annotations

import numpy as np

from mlcycle.data.reference import ColumnProfile, sorted_quantiles
from mlcycle.metrics.statistics._base import Measured, finite_sorted

LEVELS = np.linspace(0.01, 0.99, 99)


class Wasserstein:
    name = "wasserstein"
    kinds = frozenset({"numeric"})

    def compute(self, reference: ColumnProfile, current: np.ndarray) -> Measured:
        values = finite_sorted(current)
        if len(values) == 0 or reference.quantiles is None:
            return Measured(float("nan"))
        return self.from_quantiles(reference, sorted_quantiles(values, LEVELS))

    def between(self, reference: ColumnProfile, current: ColumnProfile) -> Measured:
        if current.quantiles is None or reference.quantiles is None:
            return Measured(float("nan"))
        return self.from_quantiles(reference, np.asarray(current.quantiles))

    @staticmethod
    def from_quantiles(reference: ColumnProfile, quantiles: np.ndarray) -> Measured:
        gap = np.mean(np.abs(quantiles - np.asarray(reference.quantiles)))
        spread = reference.std if reference.std else 1.0
        return Measured(float(gap / spread))
