"""Money per prediction, from the design's cost model.

Regression loses money in proportion to the error, asymmetrically::

    cost(y, ŷ) = under_per_unit · max(y − ŷ, 0) + over_per_unit · max(ŷ − y, 0)

Classification is a payoff matrix: money gained per outcome relative to doing nothing
(negative = a loss). So that both tasks speak of "money lost" in the same sense — what
a perfect decision would have earned and this one did not — a classification decision
loses ``payoff[perfect decision] − payoff[actual decision]`` (its *regret*). Differences in
money lost between two models are then exactly differences in money gained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlcycle.exceptions import UsageError


@dataclass(frozen=True)
class CostModel:
    """The design's money model for one use case (README: "The design file", how the money is counted)."""

    task: str
    predictions_per_period: float
    running_cost_per_period: float = 0.0
    under_per_unit: float = 0.0
    over_per_unit: float = 0.0
    true_positive: float = 0.0
    false_positive: float = 0.0
    false_negative: float = 0.0
    true_negative: float = 0.0

    def money_lost(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """Money lost by each prediction (never negative)."""
        y_true = np.asarray(y_true, dtype=float)
        y_pred = np.asarray(y_pred, dtype=float)
        if self.task == "regression":
            error = y_true - y_pred
            return self.shortfall_cost(np.maximum(error, 0.0), np.maximum(-error, 0.0))
        positive = y_true == 1
        decided = y_pred == 1
        best = np.where(positive, self.true_positive, self.true_negative)
        return best - self._payoff(positive, decided)

    def shortfall_cost(self, under: np.ndarray, over: np.ndarray) -> np.ndarray:
        """Regression: money lost for units forecast too few (``under``) and too many (``over``) — actual or, when
        estimating without actuals, expected."""
        return self.under_per_unit * np.asarray(under, dtype=float) + self.over_per_unit * np.asarray(over, dtype=float)

    def money_gained(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """Classification: money each decision earns relative to doing nothing."""
        if self.task != "classification":
            raise UsageError("money_gained is defined by a payoff matrix, which only classification has")
        return self._payoff(np.asarray(y_true) == 1, np.asarray(y_pred) == 1)

    def _payoff(self, positive: np.ndarray, decided: np.ndarray) -> np.ndarray:
        return np.select(
            [positive & decided, ~positive & decided, positive & ~decided],
            [self.true_positive, self.false_positive, self.false_negative],
            default=self.true_negative,
        ).astype(float)

    def per_period(self, mean_per_prediction: float) -> float:
        """Scale a mean per prediction to money per period of the design."""
        return float(mean_per_prediction) * self.predictions_per_period

    @property
    def newsvendor_quantile(self) -> float | None:
        """The money-optimal quantile of demand to forecast, or None when the cost is symmetric.

        Ordering the q-quantile with q = under / (under + over) minimises expected cost.
        """
        if self.task != "regression" or self.under_per_unit == self.over_per_unit:
            return None
        return self.under_per_unit / (self.under_per_unit + self.over_per_unit)
