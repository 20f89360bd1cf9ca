"""Population stability index over the reference's quantile bins (numeric) or categories."""

from __future__ import annotations

import numpy as np

from mlcycle.monitor.profile import ColumnProfile
from mlcycle.monitor.statistics._base import EPSILON, Measured, binned_shares, profile_shares


class PSI:
    name = "psi"
    kinds = frozenset({"numeric", "categorical"})

    def compute(self, reference: ColumnProfile, current: np.ndarray) -> Measured:
        return self.from_shares(*binned_shares(reference, current))

    def between(self, reference: ColumnProfile, current: ColumnProfile) -> Measured:
        return self.from_shares(*profile_shares(reference, current))

    @staticmethod
    def from_shares(ref: np.ndarray, cur: np.ndarray) -> Measured:
        ref, cur = np.clip(ref, EPSILON, None), np.clip(cur, EPSILON, None)
        return Measured(float(np.sum((cur - ref) * np.log(cur / ref))))
