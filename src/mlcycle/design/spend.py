"""What a use case has cost so far, against its development budget, and the payback with the real spend.

The design phase sets a development budget and asks that the model pay it back within ``horizon_periods``;
nothing checked afterwards whether the work stayed within it. So every search, promotion and retrain is timed
and priced at ``requirements.budget.compute_cost_per_hour``, and team days are logged with ``mlcycle
log-work`` and priced at ``team_day_cost`` (the store keeps each entry: ``SpendEntry``). This module adds them
up. While no team day is logged the team's cost is *estimated* — ``team_size`` × working days since the first
recorded work — and labelled so: an unlogged team is not free.

Payback with the real spend = spend so far ÷ added value per period (the planned payback divides the budget).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from mlcycle.contract.spec import Design


class Entry(Protocol):
    """What the summary reads of a stored entry (``mlcycle.store.SpendEntry``)."""

    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def what(self) -> str: ...
    @property
    def quantity(self) -> float: ...
    @property
    def cost(self) -> float: ...


@dataclass(frozen=True)
class Spend:
    currency: str
    budget: float  # value.development_budget
    compute_minutes: float
    compute_cost: float
    team_days: float
    team_cost: float
    team_estimated: bool  # no day logged: team_size × working days since the first recorded work
    by_what: dict[str, float]  # search, promotion, retrain, work → cost
    since: datetime | None  # the first recorded work

    @property
    def total(self) -> float:
        return self.compute_cost + self.team_cost

    @property
    def remaining(self) -> float:
        return self.budget - self.total

    @property
    def within_budget(self) -> bool:
        """No budget set (0) counts as within it: there is nothing to exceed."""
        return self.budget <= 0 or self.total <= self.budget

    def payback_periods(self, added_value_per_period: float) -> float:
        """Periods for the added value to pay back what was really spent (inf when it adds nothing)."""
        if not math.isfinite(added_value_per_period) or added_value_per_period <= 0:
            return math.inf
        return self.total / added_value_per_period

    def describe(self) -> str:
        """One line for a person: what was spent, of what, against the budget."""
        team = f"{self.team_days:,.1f} team days" + (" (estimated: none logged)" if self.team_estimated else "")
        parts = (
            f"{self.compute_minutes:,.1f} compute minutes ({self.compute_cost:,.0f}) and {team} ({self.team_cost:,.0f})"
        )
        if self.budget > 0:
            share = self.total / self.budget
            return (
                f"spent {self.total:,.0f} {self.currency} of the {self.budget:,.0f} development budget ({share:.0%}): "
                f"{parts}"
            )
        return f"spent {self.total:,.0f} {self.currency} (no development budget set): {parts}"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["since"] = self.since.isoformat() if self.since else None
        out |= {"total": self.total, "remaining": self.remaining, "within_budget": self.within_budget}
        return out


def summarise(design: Design, entries: Sequence[Entry], now: datetime | None = None) -> Spend:
    """The spend of ``entries``; the team's days estimated from ``team_size`` when none was logged."""
    budget = design.requirements.budget
    compute = [e for e in entries if e.kind == "compute"]
    team = [e for e in entries if e.kind == "team"]
    since = min((e.at for e in entries), default=None)
    by_what: dict[str, float] = {}
    for entry in entries:
        by_what[entry.what] = by_what.get(entry.what, 0.0) + entry.cost
    if team:
        days, cost, estimated = sum(e.quantity for e in team), sum(e.cost for e in team), False
    else:
        worked = working_days(since, now or datetime.now(UTC).replace(tzinfo=None)) if since is not None else 0.0
        days = budget.team_size * worked
        cost, estimated = days * budget.team_day_cost, True
        if cost:
            by_what["work (estimated)"] = cost
    return Spend(
        design.value.currency,
        design.value.development_budget,
        sum(e.quantity for e in compute),
        sum(e.cost for e in compute),
        days,
        cost,
        estimated,
        by_what,
        since,
    )


def working_days(start: datetime, end: datetime) -> float:
    """Monday-to-Friday days from ``start`` to ``end``, at least one once work has begun."""
    if end < start:
        return 0.0
    return max(1.0, float(np.busday_count(start.date(), end.date())) + 1.0)


def compute_cost(design: Design, minutes: float) -> float:
    """Minutes of the machine, priced at ``requirements.budget.compute_cost_per_hour``."""
    return minutes / 60 * design.requirements.budget.compute_cost_per_hour


@dataclass(frozen=True)
class ServingCost:
    """What scoring costs per period in compute, beside the design's ``running_cost_per_period`` (which also pays
    for hosting, monitoring and upkeep). ``measured``: from the scoring time the prediction log recorded over the
    last days of service; ``estimated``: the design's predictions per period × the latency the gate measured."""

    basis: str  # measured | estimated
    predictions_per_period: float
    scoring_hours_per_period: float
    cost_per_period: float  # scoring hours × compute_cost_per_hour
    running_cost_per_period: float
    currency: str
    period: str

    @property
    def share_of_running_cost(self) -> float | None:
        return self.cost_per_period / self.running_cost_per_period if self.running_cost_per_period > 0 else None

    def describe(self) -> str:
        share = self.share_of_running_cost
        of = f" ({share:.1%} of the running cost, {self.running_cost_per_period:,.0f})" if share is not None else ""
        return (
            f"scoring {self.predictions_per_period:,.0f} predictions per {self.period} takes "
            f"{self.scoring_hours_per_period:,.2f} compute hours, {self.cost_per_period:,.2f} {self.currency}{of} — "
            + ("measured on the prediction log" if self.basis == "measured" else "estimated from the gate's latency")
        )


def serving_cost(
    design: Design,
    *,
    predictions: int = 0,
    scoring_ms: float = 0.0,
    days: float = 0.0,
    latency_ms: float | None = None,
    predictions_per_period: float | None = None,
) -> ServingCost | None:
    """Measured when ``predictions`` were scored over ``days`` (``scoring_ms`` their summed scoring time), else
    estimated from ``latency_ms`` and ``predictions_per_period`` (default: the design's); None when neither is
    known."""
    from mlcycle.design.value import PERIOD_DAYS

    value = design.value
    per_hour = design.requirements.budget.compute_cost_per_hour
    if predictions > 0 and days > 0:
        scale = PERIOD_DAYS[value.period] / days
        count, hours, basis = predictions * scale, scoring_ms / 3.6e6 * scale, "measured"
    elif latency_ms is not None and (predictions_per_period or value.predictions_per_period):
        count = float(predictions_per_period or value.predictions_per_period or 0.0)
        hours, basis = count * latency_ms / 3.6e6, "estimated"
    else:
        return None
    return ServingCost(
        basis, count, hours, hours * per_hour, value.running_cost_per_period, value.currency, value.period
    )


__all__ = ["Entry", "ServingCost", "Spend", "compute_cost", "serving_cost", "summarise", "working_days"]
