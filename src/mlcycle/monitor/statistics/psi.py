"""Population stability index over the reference's quantile bins (numeric) or categories."""

from __future__ import annotations

import numpy as np

from mlcycle.monitor.profile import ColumnProfile
from mlcycle.monitor.statistics._base import EPSILON, Measured, binned_shares


class PSI:
    name = "psi"
    kinds = frozenset({"numeric", "categorical"})

    def compute(self, reference: ColumnProfile, current: np.ndarray) -> Measured:
        ref, cur = binned_shares(reference, current)
        ref, cur = np.clip(ref, EPSILON, None), np.clip(cur, EPSILON, None)
        return Measured(float(np.sum((cur - ref) * np.log(cur / ref))))
