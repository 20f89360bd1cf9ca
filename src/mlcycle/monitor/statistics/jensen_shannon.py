"""Jensen–Shannon distance (base 2, between 0 and 1) over categories, or the reference's bins for numbers."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import jensenshannon

from mlcycle.monitor.profile import ColumnProfile
from mlcycle.monitor.statistics._base import Measured, binned_shares, profile_shares


class JensenShannon:
    name = "jensen_shannon"
    kinds = frozenset({"numeric", "categorical"})

    def compute(self, reference: ColumnProfile, current: np.ndarray) -> Measured:
        return self.from_shares(*binned_shares(reference, current))

    def between(self, reference: ColumnProfile, current: ColumnProfile) -> Measured:
        return self.from_shares(*profile_shares(reference, current))

    @staticmethod
    def from_shares(ref: np.ndarray, cur: np.ndarray) -> Measured:
        if cur.sum() == 0:
            return Measured(float("nan"))
        return Measured(float(jensenshannon(ref, cur, base=2)))
