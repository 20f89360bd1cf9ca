"""Jensen–Shannon distance (base 2, between 0 and 1) over categories, or the reference's bins for numbers."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import jensenshannon

from mlcycle.metrics.statistics._base import Measured, SharesStatistic


class JensenShannon(SharesStatistic):
    name = "jensen_shannon"
    kinds = frozenset({"numeric", "categorical"})

    def from_shares(self, ref: np.ndarray, cur: np.ndarray) -> Measured:
        if cur.sum() == 0:
            return Measured(float("nan"))
        return Measured(float(jensenshannon(ref, cur, base=2)))
