"""Chi-square goodness of fit of current categories against the reference's shares.

The effect size is Cohen's w, ``sqrt(chi² / n)``, which does not grow with the number of rows;
the p-value is reported beside it. Values the reference never saw count as a category of
their own (see ``unseen_share`` in the report).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from mlcycle.data.reference import ColumnProfile
from mlcycle.metrics.statistics._base import EPSILON, Measured, binned_shares, profile_shares


class ChiSquare:
    name = "chi2"
    kinds = frozenset({"categorical"})

    def compute(self, reference: ColumnProfile, current: np.ndarray) -> Measured:
        n = int((current if isinstance(current, pd.Series) else pd.Series(current, dtype=object)).notna().sum())
        return self.from_shares(*binned_shares(reference, current), n)

    def between(self, reference: ColumnProfile, current: ColumnProfile) -> Measured:
        return self.from_shares(*profile_shares(reference, current), current.count - current.missing)

    @staticmethod
    def from_shares(ref: np.ndarray, cur: np.ndarray, n: int) -> Measured:
        if n == 0:
            return Measured(float("nan"))
        expected = np.clip(ref, EPSILON, None)
        expected = expected / expected.sum() * n
        observed = cur * n
        chi2 = float(np.sum((observed - expected) ** 2 / expected))
        p_value = float(stats.chi2.sf(chi2, max(1, len(ref) - 1)))
        return Measured(float(np.sqrt(chi2 / n)), p_value)
