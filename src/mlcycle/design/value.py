"""What the use case is worth in money, before any model exists (README: "The design file").

The design phase prices today's process on history — the baseline's money lost per
period — and asks how much better a model must be to be worth building:

- *break-even improvement*: the cut in money lost that just covers the running cost;
- *payback improvement*: the cut that also pays back the development budget within
  ``horizon_periods``;
- what 10 %, 20 %, 30 % and 50 % less error cost would add per period, and how many
  periods each takes to pay back the budget.

Development later replaces this estimate with validated figures, and monitoring with
realised ones; the three are always shown side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlcycle.contract.spec import Design, positive_mask
from mlcycle.design import baseline as baseline_mod
from mlcycle.metrics.catalogue import Scored
from mlcycle.metrics.cost import CostModel
from mlcycle.metrics.interval import Interval, resample_means

SCENARIOS = (0.10, 0.20, 0.30, 0.50)
# Improvement beyond which we call a use case not worth building: even halving today's
# error cost would not pay for it.
NO_GO_ABOVE = 0.50

PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "quarter": 365.25 / 4, "year": 365.25}
PANDAS_PERIOD = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


@dataclass(frozen=True)
class Scenario:
    improvement: float
    money_lost_per_period: float
    added_value_per_period: float
    payback_periods: float  # inf when the added value is not positive


@dataclass(frozen=True)
class Spread:
    """The design estimate's intervals: over resamples of the history's days (or rows)."""

    lost: Interval  # today's process's money lost per period
    at_gate: Interval  # added value per period of a model that just meets the gate
    go_share: float  # share of resamples in which the verdict is go
    payback_share: float  # share in which a model that just meets the gate pays back within the horizon

    def to_dict(self) -> dict[str, object]:
        return {
            "baseline_money_lost_per_period": self.lost.to_dict(),
            "added_value_at_gate_per_period": self.at_gate.to_dict(),
            "go_share": self.go_share,
            "payback_share": self.payback_share,
        }


@dataclass(frozen=True)
class ValueEstimate:
    currency: str
    period: str
    predictions_per_period: float
    predictions_per_period_inferred: bool
    baseline: str
    scored_rows: int
    skipped_rows: int
    baseline_cost_per_prediction: float
    baseline_money_lost_per_period: float
    running_cost_per_period: float
    development_budget: float
    horizon_periods: int
    break_even_improvement: float
    payback_improvement: float
    required_by_design: float
    scenarios: list[Scenario]
    verdict: str  # "go" | "no-go"
    reasons: list[str] = field(default_factory=list)
    baseline_money_gained_per_period: float | None = None  # classification only
    spread: Spread | None = None  # intervals over resamples of the history; None with fewer than two days or rows

    @property
    def go(self) -> bool:
        return self.verdict == "go"

    @property
    def at_gate(self) -> Scenario:
        """What a model that just meets the promotion gate's required cut is worth."""
        return scenario(
            self.required_by_design,
            self.baseline_money_lost_per_period,
            self.running_cost_per_period,
            self.development_budget,
        )

    @property
    def what_it_buys(self) -> str:
        """One sentence for the business: what a model that meets the gate buys, in money."""
        s = self.at_gate
        saved = self.baseline_money_lost_per_period * self.required_by_design
        payback = (
            "never pays back its budget"
            if math.isinf(s.payback_periods)
            else (
                f"pays back its {self.development_budget:,.0f} {self.currency} budget in "
                f"{s.payback_periods:.1f} {self.period}s"
            )
        )
        return (
            f"A model that meets the gate ({self.required_by_design:.0%} less money lost than {self.baseline}) "
            f"saves {saved:,.0f} {self.currency} per {self.period} — {s.added_value_per_period:,.0f} "
            f"{self.currency} after its running cost — and {payback}."
        )


def cost_model(design: Design, predictions_per_period: float) -> CostModel:
    value = design.value
    per_period, running = predictions_per_period, value.running_cost_per_period
    if design.task == "regression":
        assert value.cost is not None
        return CostModel(
            design.task,
            per_period,
            running,
            under_per_unit=value.cost.under_per_unit,
            over_per_unit=value.cost.over_per_unit,
        )
    assert value.payoff is not None
    payoff = value.payoff
    return CostModel(
        design.task,
        per_period,
        running,
        true_positive=payoff.true_positive,
        false_positive=payoff.false_positive,
        false_negative=payoff.false_negative,
        true_negative=payoff.true_negative,
    )


def predictions_per_period(design: Design, frame: pd.DataFrame) -> tuple[float, bool]:
    """The design's figure, or the data's rows per period (full periods only) when it gives none."""
    if design.value.predictions_per_period is not None:
        return design.value.predictions_per_period, False
    times = frame[design.time_column]
    counts = times.dt.to_period(PANDAS_PERIOD[design.value.period]).value_counts().sort_index()
    if len(counts) >= 3:
        counts = counts.iloc[1:-1]  # the first and last periods are usually partial
    return float(counts.mean()), True


def scenario(improvement: float, baseline_lost: float, running: float, budget: float) -> Scenario:
    lost = baseline_lost * (1 - improvement)
    added = baseline_lost - lost - running
    payback = budget / added if added > 0 else math.inf
    return Scenario(improvement, lost, added, payback)


def score_baseline(design: Design, frame: pd.DataFrame) -> Scored:
    """Today's process predicting the history, each row from what came before it.

    Rows the baseline cannot predict (the first season of each series) are left out.
    """
    per_period, _ = predictions_per_period(design, frame)
    predicted = baseline_mod.predict(design, frame, frame)
    if design.task == "classification":
        actual = positive_mask(design, frame[design.target]).to_numpy(dtype=float)
    else:
        actual = frame[design.target].to_numpy(dtype=float)
    keep = ~np.isnan(predicted) & ~np.isnan(actual)
    days = pd.to_datetime(frame[design.time_column]).to_numpy()[keep] if design.time_column else None
    return Scored(actual[keep], predicted[keep], cost_model(design, per_period), days=days)


def estimate(design: Design, frame: pd.DataFrame, scored: Scored | None = None) -> ValueEstimate:
    """Price the baseline on history and decide go / no-go."""
    per_period, inferred = predictions_per_period(design, frame)
    scored = scored if scored is not None else score_baseline(design, frame)
    costs = scored.cost
    rows = len(scored.y_true)
    cost_per_prediction = float(costs.money_lost(scored.y_true, scored.y_pred).mean()) if rows else math.nan
    baseline_lost = costs.per_period(cost_per_prediction)
    gained = None
    if design.task == "classification" and rows:
        gained = costs.per_period(costs.money_gained(scored.y_true, scored.y_pred).mean())

    value = design.value
    running, budget, horizon = value.running_cost_per_period, value.development_budget, value.horizon_periods
    break_even = running / baseline_lost if baseline_lost > 0 else math.inf
    payback_needed = (running + budget / horizon) / baseline_lost if baseline_lost > 0 else math.inf
    scenarios = [scenario(s, baseline_lost, running, budget) for s in SCENARIOS]
    verdict, reasons = _decide(design, baseline_lost, break_even, payback_needed, rows)
    spread = _spread(design, scored) if rows else None
    if spread is not None and verdict == "go":
        reasons.append(
            f"go in {spread.go_share:.0%} of resamples of the history ({spread.lost.method}); a model that just meets "
            f"the gate pays back within {horizon} {value.period}s in {spread.payback_share:.0%} of them"
        )
    return ValueEstimate(
        currency=value.currency,
        period=value.period,
        predictions_per_period=per_period,
        predictions_per_period_inferred=inferred,
        baseline=baseline_mod.describe(design),
        scored_rows=rows,
        skipped_rows=len(frame) - rows,
        baseline_cost_per_prediction=cost_per_prediction,
        baseline_money_lost_per_period=baseline_lost,
        running_cost_per_period=running,
        development_budget=budget,
        horizon_periods=horizon,
        break_even_improvement=break_even,
        payback_improvement=payback_needed,
        required_by_design=design.requirements.beat_baseline_by,
        scenarios=scenarios,
        verdict=verdict,
        reasons=reasons,
        baseline_money_gained_per_period=gained,
        spread=spread,
    )


def _spread(design: Design, scored: Scored) -> Spread | None:
    """How the estimate moves over resamples of the history (whole days with a time column, rows otherwise)."""
    costs = scored.cost
    resampled = resample_means(costs.money_lost(scored.y_true, scored.y_pred), scored.days)
    if resampled is None:
        return None
    value = design.value
    lost = costs.per_period(1.0) * resampled.means[:, 0]
    added = lost * design.requirements.beat_baseline_by - value.running_cost_per_period
    with np.errstate(divide="ignore", invalid="ignore"):
        payback_needed = (value.running_cost_per_period + value.development_budget / value.horizon_periods) / lost
    return Spread(
        lost=resampled.interval(lost),
        at_gate=resampled.interval(added),
        go_share=float(np.mean((lost > 0) & (payback_needed <= NO_GO_ABOVE))),
        payback_share=float(np.mean(added * value.horizon_periods >= value.development_budget)),
    )


def _decide(
    design: Design, baseline_lost: float, break_even: float, payback_needed: float, scored: int
) -> tuple[str, list[str]]:
    value = design.value
    money = lambda x: f"{x:,.0f} {value.currency}"  # noqa: E731
    per = f"per {value.period}"
    if scored == 0:
        return "no-go", [
            "the baseline could not be scored on any row of the history: there is nothing to price "
            "today's process on (too little history for its season?)"
        ]
    if not baseline_lost > 0:
        return "no-go", [
            f"today's process ({baseline_mod.describe(design)}) loses no money on history; a model cannot improve on it"
        ]
    reasons = [f"today's process, {baseline_mod.describe(design)}, loses {money(baseline_lost)} {per}"]
    horizon = f"{value.horizon_periods} {value.period}s"
    if payback_needed > NO_GO_ABOVE:
        reasons.append(
            f"to cover the running cost ({money(value.running_cost_per_period)} {per}) and pay back the budget "
            f"({money(value.development_budget)}) within {horizon}, a model must cut that by {payback_needed:.0%}; "
            f"even a {NO_GO_ABOVE:.0%} cut would not — do not build it as designed"
        )
        return "no-go", reasons
    reasons.append(
        f"a model breaks even on running cost at {break_even:.1%} less money lost, and pays back the "
        f"budget within {horizon} at {payback_needed:.1%}"
    )
    required = design.requirements.beat_baseline_by
    if payback_needed > required:
        reasons.append(
            f"caution: the promotion gate asks only {required:.0%} (requirements.beat_baseline_by); "
            f"a model that clears it but stays under {payback_needed:.1%} would not pay back in time — "
            f"consider raising it"
        )
    else:
        improvement = max(required, payback_needed)
        added = baseline_lost * improvement - value.running_cost_per_period
        reasons.append(f"a model that just meets the gate ({required:.0%} better) adds {money(added)} {per}")
    return "go", reasons
