"""Population stability index over the reference's quantile bins (numeric) or categories."""

from __future__ import annotations

import numpy as np

from mlcycle.metrics.statistics._base import EPSILON, Measured, SharesStatistic


class PSI(SharesStatistic):
    name = "psi"
    kinds = frozenset({"numeric", "categorical"})

    def from_shares(self, ref: np.ndarray, cur: np.ndarray) -> Measured:
        ref, cur = np.clip(ref, EPSILON, None), np.clip(cur, EPSILON, None)
        return Measured(float(np.sum((cur - ref) * np.log(cur / ref))))
