"""Where a use case stands, in one place: design verdict, champion and its gate, last window, alerts, last review.

Everything here is read from what the other commands wrote — the design summary, the model
registry, the monitoring store — so ``mlcycle status`` is quick and changes nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlcycle.design import spend as spend_mod
from mlcycle.develop import registry
from mlcycle.develop.tracking import TAG, Tracker
from mlcycle.store import open_store

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace


@dataclass(frozen=True)
class Status:
    """One use case's standing. Each part is None (or empty) when the command that writes it has not run."""

    use_case: str
    design: dict[str, Any] | None  # the summary `mlcycle design` wrote: verdict, estimate, currency, period
    retired: dict[str, Any] | None  # reason and time when the use case is retired
    champion: str | None  # registered versions behind the aliases
    previous: str | None
    gate: dict[str, Any] | None  # the champion's gate: passed, forced, rows
    last_window: dict[str, Any] | None
    open_alerts: list[dict[str, Any]]
    last_review: dict[str, Any] | None
    spend: dict[str, Any] | None = None  # design/spend.py: so far, against the budget, payback with it

    def to_dict(self) -> dict[str, Any]:
        """The shape of ``mlcycle status --json``, which scripts read."""
        return {
            "use_case": self.use_case,
            "design": self.design,
            "serving": {"retired": self.retired},
            "champion": {"version": self.champion, "previous": self.previous, "gate": self.gate},
            "last_window": self.last_window,
            "open_alerts": self.open_alerts,
            "last_review": self.last_review,
            "spend": self.spend,
        }


def status(ws: Workspace) -> Status:
    store = open_store(ws.state_dir)
    design_file = ws.reports_dir / "design.json"
    design = json.loads(design_file.read_text(encoding="utf-8")) if design_file.is_file() else None
    tracker = Tracker(ws.state_dir, ws.name)
    champion = registry.alias_version(tracker, ws.name, registry.CHAMPION)
    previous = registry.alias_version(tracker, ws.name, registry.PREVIOUS)
    gate = None
    if champion is not None:
        tags = tracker.client.get_model_version(ws.name, champion).tags
        raw = json.loads(tags.get(f"{TAG}gate", "{}"))
        gate = {
            "passed": raw.get("passed"),
            "forced": raw.get("forced"),
            "rows": [
                {k: r[k] for k in ("requirement", "threshold", "measured", "passed")} for r in raw.get("rows", [])
            ],
            "figures": raw.get("figures", {}),  # validated money and its interval: net_value, net_value_low/_high
        }
    windows = store.history.windows(last=1)
    last = None
    if windows:
        w = windows[0]
        last = {
            k: getattr(w, k)
            for k in (
                "start",
                "end",
                "model_version",
                "predictions",
                "labelled",
                "metric",
                "metric_value",
                "realised_value",
                "estimated_value",
                "validated_value",
                "latency_p95_ms",
                "error_rate",
                "drifted",
            )
        }
        last["intervals"] = w.details.get("intervals", {})  # realised_value: low, high, level, method
        last["estimated"] = w.details.get("estimated")  # figures without actuals (CBPE / DLE), intervals, check
    reviews = store.history.reviews()
    spent = spend_mod.summarise(ws.spec, store.history.spend())
    added, basis = _added_value(design, gate, last)
    spend_json = spent.to_json() | {
        "payback_periods": _finite(spent.payback_periods(added)),
        "payback_basis": basis,  # which added value the payback divides by
        "serving": _serving(ws, store, gate, design),
    }
    return Status(
        use_case=ws.name,
        design=design,
        retired=store.history.get_status("retired"),
        champion=champion,
        previous=previous,
        gate=gate,
        last_window=last,
        open_alerts=[
            {"rule": a.rule, "subject": a.subject, "opened_at": a.opened_at, "message": a.message}
            for a in store.history.open_alerts()
        ],
        last_review=(
            {
                k: getattr(reviews[-1], k)
                for k in ("id", "at", "verdict", "model_version", "reasons", "action", "action_detail")
            }
            if reviews
            else None
        ),
        spend=spend_json,
    )


SERVED_DAYS = 7.0  # serving's compute is measured over the last week of the prediction log


def _serving(
    ws: Workspace, store: Any, gate: dict[str, Any] | None, design: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Scoring's compute per period against the running cost: measured on the last week's predictions, else
    estimated from the champion's gate latency (``design/spend.py``)."""
    from datetime import timedelta

    from mlcycle.store.records import utcnow

    now = utcnow()
    count, scoring_ms, first = store.predictions.usage(now - timedelta(days=SERVED_DAYS))
    first = min(first or now, now)
    served_days = max((now - first).total_seconds() / 86400, 1 / 24)  # since the first of them, an hour at least
    latency = ((gate or {}).get("figures") or {}).get("latency_p95_ms")
    found = spend_mod.serving_cost(
        ws.spec,
        predictions=count,
        scoring_ms=scoring_ms,
        days=served_days if count else 0.0,
        latency_ms=latency,
        predictions_per_period=(design or {}).get("predictions_per_period"),
    )
    if found is None:
        return None
    return {
        "basis": found.basis,
        "predictions_per_period": found.predictions_per_period,
        "scoring_hours_per_period": found.scoring_hours_per_period,
        "cost_per_period": found.cost_per_period,
        "running_cost_per_period": found.running_cost_per_period,
        "share_of_running_cost": found.share_of_running_cost,
        "text": found.describe(),
    }


def _added_value(
    design: dict[str, Any] | None, gate: dict[str, Any] | None, last: dict[str, Any] | None
) -> tuple[float, str | None]:
    """The best-known added value per period: realised in the latest window, else validated at the gate, else
    the design's estimate."""
    if last and last.get("realised_value") is not None:
        return float(last["realised_value"]), "realised"
    if gate and gate.get("figures", {}).get("net_value") is not None:
        return float(gate["figures"]["net_value"]), "validated"
    estimated = (design or {}).get("estimated_added_value_per_period")
    if estimated is not None:
        return float(estimated), "estimated"
    return math.nan, None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


__all__ = ["Status", "status"]
