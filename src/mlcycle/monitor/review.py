"""The review: is the deployed model still worth it? One of four verdicts, with reasons and numbers.

Read from the stored monitoring windows of the current champion — the last
``monitoring.review.retire_after_windows`` of them, the review period:

1. too little evidence (fewer labelled predictions than ``min_labelled_rows``) → ``healthy``,
   saying so: no verdict is drawn from a handful of rows, and there is never a fifth state;
2. ``rollback`` — the ``previous`` version, scored on the champion's own recent traffic, loses
   clearly less money than the champion (same rows, same actuals: comparable by construction);
3. ``retire`` — realised added value has been below zero, i.e. the model saved less than it
   costs to run, in every window of the review period: the project no longer pays;
4. ``retrain`` — the latest window has drift, performance or money past the design's
   thresholds, or an alert episode about them is still open, while the process still pays;
5. otherwise ``healthy``, with the figures that say so.

Exit codes (README: "Monitoring and the loop back"): 0 healthy, 3 retrain, 4 rollback, 5 retire. Each review is stored;
acting on it (rollback, retire, retrain) is recorded on the review it answered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlcycle.design import spend
from mlcycle.develop import registry
from mlcycle.develop.tracking import Tracker
from mlcycle.exceptions import UseCaseError
from mlcycle.metrics.interval import Interval, weighted_mean_interval
from mlcycle.monitor import performance as performance_mod
from mlcycle.monitor import shadow
from mlcycle.store import Store, StoredWindow, open_store

if TYPE_CHECKING:
    from mlcycle.contract.spec import Design
    from mlcycle.data.workspace import Workspace

EXIT_CODES = {"healthy": 0, "retrain": 3, "rollback": 4, "retire": 5}
ROLLBACK_MARGIN = 0.05  # previous must lose at least 5 % less money on the same rows: noise is not a reason to switch


@dataclass
class Review:
    verdict: str
    reasons: list[str]
    numbers: dict[str, Any] = field(default_factory=dict)
    model_version: str | None = None
    id: int | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "verdict": self.verdict,
            "model_version": self.model_version,
            "reasons": self.reasons,
            "numbers": self.numbers,
            "exit_code": self.exit_code,
        }


def review(ws: Workspace, store: Store | None = None) -> Review:
    """Judge the champion from its stored windows; store and return the verdict."""
    store = store or open_store(ws.state_dir)
    result = judge(ws, store)
    spent = spend.summarise(ws.spec, store.history.spend())
    added = result.numbers.get("realised_value")
    payback = spent.payback_periods(added if isinstance(added, int | float) else math.nan)
    result.numbers["spend"] = spent.to_json() | {"payback_periods": payback if math.isfinite(payback) else None}
    result.id = store.history.add_review(result.verdict, result.model_version, result.reasons, result.numbers)
    return result


def judge(ws: Workspace, store: Store) -> Review:
    design = ws.spec
    settings = design.monitoring.review
    tracker = Tracker(ws.state_dir, ws.name)
    champion = registry.alias_version(tracker, ws.name, registry.CHAMPION)
    if champion is None:
        raise UseCaseError(
            f"no registered model {ws.name!r} has alias 'champion': there is nothing to review yet; "
            "run `mlcycle promote`"
        )
    own = [w for w in store.history.windows() if w.model_version == champion]
    period = own[-settings.retire_after_windows :]
    labelled = sum(w.labelled for w in period)
    money = f"{design.value.currency} per {design.value.period}"
    numbers: dict[str, Any] = {
        "champion": champion,
        "windows": len(period),
        "labelled": labelled,
        "min_labelled_rows": settings.min_labelled_rows,
        "realised_by_window": [w.realised_value for w in period],
        "estimated_value": next((w.estimated_value for w in reversed(period) if w.estimated_value is not None), None),
        "validated_value": next((w.validated_value for w in reversed(period) if w.validated_value is not None), None),
        "running_cost": design.value.running_cost_per_period,
    }
    if labelled < settings.min_labelled_rows:
        on_estimates = _on_estimates(design, period, labelled, numbers, champion)
        if on_estimates is not None:
            return on_estimates
        return Review(
            "healthy",
            [
                f"insufficient evidence: {labelled} labelled predictions, "
                f"{settings.min_labelled_rows} needed (version {champion}, {len(period)} window(s) "
                "monitored); run `mlcycle monitor` once more actuals have come back"
            ],
            numbers,
            champion,
        )
    realised = _weighted(period, "realised_value")
    numbers["realised_value"] = realised
    spread = _weighted_interval(period, realised)
    numbers["realised_interval"] = spread.to_dict() if spread else None
    within = f" ({spread.text(suffix=' ' + money)})" if spread else ""
    latest = period[-1]

    previous = registry.alias_version(tracker, ws.name, registry.PREVIOUS)
    if previous is not None and previous != champion:
        scores = _versus_previous(ws, store, period, champion, previous)
        if scores is not None:
            now, before = scores
            numbers["shadow"] = {champion: now.summary(), previous: before.summary()}
            spread = shadow.saving(now, before)
            numbers["shadow_saving_interval"] = spread.to_dict() if spread else None
            if before.money_lost < now.money_lost * (1 - ROLLBACK_MARGIN):
                cut = 1 - before.money_lost / now.money_lost
                held = (
                    f"; it saves {spread.text(suffix=' ' + money)}"
                    + (
                        ", above zero across the interval"
                        if spread.holds_above(0)
                        else ", an interval that reaches zero"
                    )
                    if spread
                    else ""
                )
                return Review(
                    "rollback",
                    [
                        f"on the champion's own last {now.rows:,} labelled predictions, "
                        f"version {previous} (previous) would "
                        f"have lost {before.money_lost:,.0f} {money} against the champion's {now.money_lost:,.0f} — "
                        f"{cut:.0%} less{held}; move `champion` back with `mlcycle rollback`"
                    ],
                    numbers,
                    champion,
                )

    values = [w.realised_value for w in period]
    negative = [v for v in values if v is not None and v < 0]
    if len(period) >= settings.retire_after_windows and len(negative) == len(period):
        shown = ", ".join(f"{v:,.0f}" for v in values)
        return Review(
            "retire",
            [
                f"the project no longer pays: in each of the last {len(period)} windows the model saved less than the "
                f"{design.value.running_cost_per_period:,.0f} {money} it costs to run "
                f"(realised added value {shown} {money}; over the period {realised:,.0f}{within}"
                + (", the whole interval below zero" if spread and spread.high < 0 else "")
                + "); stop serving it (`mlcycle retire`) and take the use case back to design"
            ],
            numbers,
            champion,
        )

    active = [(c["rule"], c["subject"], c["message"]) for c in latest.details.get("active", [])]
    # An episode still open counts too: a latest window with too few rows to judge a column neither
    # confirms nor clears what the windows before it found.
    active += [
        (a.rule, a.subject, f"{a.message} (open since {a.opened_at:%Y-%m-%d %H:%M})")
        for a in store.history.open_alerts()
    ]
    seen: set[tuple[str, str]] = set()
    reasons = []
    for rule, subject, message in active:
        if rule in ("drift", "performance", "value") and (rule, subject) not in seen:
            seen.add((rule, subject))
            reasons.append(message)
    numbers["latest_window"] = {
        "start": latest.start,
        "end": latest.end,
        "metric": latest.metric,
        "metric_value": latest.metric_value,
        "drifted": latest.drifted,
        "realised_value": latest.realised_value,
    }
    if negative:
        reasons.append(f"realised added value was below zero in {len(negative)} of the last {len(period)} windows")
    if reasons:
        pays = realised is not None and realised > 0
        tail = (
            f"the process still pays ({realised:,.0f} {money} realised over the period{within}), "
            "so retrain (`mlcycle retrain`)"
            if pays
            else "retrain before it stops paying (`mlcycle retrain`)"
        )
        return Review("retrain", [*reasons, tail], numbers, champion)
    return Review(
        "healthy",
        [
            f"realised added value {realised:,.0f} {money}{within} over the last {len(period)} window(s) "
            f"({labelled:,} labelled predictions); no drift, performance or money threshold crossed "
            "in the latest window"
        ],
        numbers,
        champion,
    )


def _on_estimates(
    design: Design, period: list[StoredWindow], labelled: int, numbers: dict[str, Any], champion: str
) -> Review | None:
    """A verdict from the money estimated without actuals (CBPE / DLE), when too few actuals are back for one from
    realised money. Every reason says "estimated" and gives the interval; the figures are kept apart from the
    realised ones (``numbers["basis"] = "estimated"``). None when no window carries an estimate."""
    settings = design.monitoring.review
    estimates = [(w.details.get("estimated") or {}) for w in period]
    values = [e.get("figures", {}).get("net_value") for e in estimates]
    if not values or values[-1] is None:  # no window of this champion yet, or none with an estimate
        return None
    money = f"{design.value.currency} per {design.value.period}"
    latest = Interval.from_dict(estimates[-1].get("intervals", {}).get("net_value"))
    numbers |= {"basis": "estimated", "estimated_by_window": values, "estimated_interval": latest and latest.to_dict()}
    waiting = (
        f"insufficient evidence on realised money: {labelled} labelled predictions, {settings.min_labelled_rows} "
        f"needed — so the figures above are estimated without actuals, by {estimates[-1].get('method', '')}"
    )
    within = f" ({latest.text(suffix=' ' + money)})" if latest else ""
    if len(period) >= settings.retire_after_windows and all(v is not None and v < 0 for v in values):
        if latest is not None and latest.high < 0:
            shown = ", ".join(f"{v:,.0f}" for v in values if v is not None)
            return Review(
                "retire",
                [
                    f"estimated: in each of the last {len(period)} windows the model saves less than the "
                    f"{design.value.running_cost_per_period:,.0f} {money} it costs to run (estimated added value "
                    f"{shown} {money}; the latest window's whole interval{within} below zero); stop serving it "
                    "(`mlcycle retire`) or wait for the actuals to confirm",
                    waiting,
                ],
                numbers,
                champion,
            )
    floor = design.monitoring.value.alert_below_fraction_of_estimate * (numbers.get("estimated_value") or 0.0)
    if floor > 0 and values[-1] < floor:
        return Review(
            "retrain",
            [
                f"estimated: added value {values[-1]:,.0f} {money}{within} in the latest window, below {floor:,.0f} "
                f"({design.monitoring.value.alert_below_fraction_of_estimate:.0%} of the design's estimate); "
                "retrain (`mlcycle retrain`) or wait for the actuals to confirm",
                waiting,
            ],
            numbers,
            champion,
        )
    return Review(
        "healthy",
        [f"estimated: added value {values[-1]:,.0f} {money}{within} in the latest window", waiting],
        numbers,
        champion,
    )


def _weighted(windows: list[StoredWindow], key: str) -> float | None:
    values = [(getattr(w, key), w.labelled) for w in windows]
    pairs = [(v, n) for v, n in values if v is not None and n]
    total = sum(n for _, n in pairs)
    return sum(v * n for v, n in pairs) / total if total else None


def _weighted_interval(windows: list[StoredWindow], centre: float | None) -> Interval | None:
    """The interval of the period's realised value, from its windows' own intervals."""
    if centre is None:
        return None
    parts = [
        (w.labelled, interval)
        for w in windows
        if (interval := Interval.from_dict(w.details.get("intervals", {}).get("realised_value"))) is not None
    ]
    return weighted_mean_interval(parts, centre)


def _versus_previous(
    ws: Workspace, store: Store, period: list[StoredWindow], champion: str, previous: str
) -> tuple[shadow.ShadowScore, shadow.ShadowScore] | None:
    """Champion and previous on the champion's labelled traffic of the review period (None if it cannot be done)."""
    frame = performance_mod.labelled_predictions(ws, store, period[0].start, period[-1].end, by="event")
    frame = frame[(frame["model_version"].astype(str) == champion) & frame["actual"].notna()]
    if frame.empty:
        return None
    try:
        models = {champion: shadow.load_version(ws, champion), previous: shadow.load_version(ws, previous)}
    except Exception:  # a version that no longer loads cannot be rolled back to; the other verdicts still stand
        return None
    metric = period[-1].metric
    scores = shadow.compare(ws, store, models, frame, metric=metric)
    now, before = scores[champion], scores[previous]
    if not (math.isfinite(now.money_lost) and math.isfinite(before.money_lost)) or now.money_lost <= 0:
        return None
    return now, before


# ── acting on a verdict ──────────────────────────────────────────────────────────────
def rollback(ws: Workspace, store: Store | None = None) -> tuple[str, str]:
    """Move ``champion`` back to ``previous``; returns (from, to). A running service follows the alias."""
    store = store or open_store(ws.state_dir)
    tracker = Tracker(ws.state_dir, ws.name)
    champion = registry.alias_version(tracker, ws.name, registry.CHAMPION)
    previous = registry.alias_version(tracker, ws.name, registry.PREVIOUS)
    if champion is None or previous is None or previous == champion:
        raise UseCaseError(
            f"nothing to roll back to: {ws.name!r} has champion {champion or 'none'} and previous "
            f"{previous or 'none'}; a rollback needs an earlier champion"
        )
    client = tracker.client
    client.set_registered_model_alias(ws.name, registry.CHAMPION, previous)
    client.delete_registered_model_alias(ws.name, registry.PREVIOUS)
    client.set_model_version_tag(ws.name, champion, "mlcycle.rolled_back_at", pd.Timestamp.now("UTC").isoformat())
    _record(store, "rollback", {"from": champion, "to": previous})
    return champion, previous


def retire(ws: Workspace, reason: str, store: Store | None = None) -> dict[str, Any]:
    """Stop serving the use case: the service answers 410 with ``reason``; every record is kept."""
    if not reason.strip():
        raise UseCaseError("retire needs a reason (--reason): the service shows it to every caller")
    store = store or open_store(ws.state_dir)
    state = {"reason": reason.strip(), "at": pd.Timestamp.now("UTC").isoformat()}
    store.history.set_status("retired", state)
    _record(store, "retire", state)
    return state


def reinstate(ws: Workspace, store: Store | None = None) -> None:
    """Serve the use case again after a retirement (the champion alias decides which model)."""
    (store or open_store(ws.state_dir)).history.set_status("retired", None)


def _record(store: Store, action: str, detail: dict[str, Any]) -> None:
    """Note the action on the latest review that has none yet (the audit link verdict → action)."""
    pending = [r for r in store.history.reviews() if r.action is None]
    if pending:
        store.history.record_action(pending[-1].id, action, detail)


__all__ = ["EXIT_CODES", "Review", "judge", "reinstate", "retire", "review", "rollback"]
