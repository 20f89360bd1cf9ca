"""Alerts: the design's monitoring rules, raised once per episode and cleared when the condition ends.

Rules (``monitoring`` in the design): a column drifting past its ``alert`` threshold, the
performance metric past ``alert_above`` / ``alert_below``, realised added value under
``alert_below_fraction_of_estimate`` of the design's estimate, single-row latency p95 over
``requirements.latency_p95_ms``, the share of failed scoring requests over
``monitoring.errors.alert_above``. Each (rule, subject) is an *episode* in the store: a condition
that stays true for ten windows raises one alert, and one "cleared" when it ends — no storm. With
``monitoring.drift.consecutive: N`` a drift episode opens only after N windows in a row past alert
and clears only after N windows back under it (:func:`persistent`).

Sinks: ``log`` (JSON lines in ``.mlcycle/alerts.log``), ``webhook`` (POST JSON, with a timeout
and retries), and a Prometheus gauge per rule (``.mlcycle/alerts.prom``, for node-exporter's
textfile collector). A failing sink is reported in the outcome and never stops monitoring.

Delivery is at least once: an event a sink did not take is kept in the store's outbox and sent
again, first, by the next monitoring run, until it is taken. Each event carries an ``id`` that a
receiver can deduplicate on. A sink costs a run at most one failure: after it failed once, the
run's other events for it go straight to the outbox — so a receiver that hangs delays monitoring
by one timeout, not one per alert. A timeout is not retried within the run (a receiver slow
once is slow again a second later); a refused connection or an HTTP error is, with backoff.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mlcycle.contract.spec import AlertSink, Design
from mlcycle.contract.vocabulary import tell_sink
from mlcycle.exceptions import AlertNotDelivered
from mlcycle.metrics import catalogue

if TYPE_CHECKING:  # at run time these come as arguments: importing mlcycle tells the sinks without loading the store
    from mlcycle.monitor.drift import DriftReport
    from mlcycle.monitor.performance import Performance
    from mlcycle.store import Store


@dataclass(frozen=True)
class Condition:
    rule: str  # drift | performance | value | latency
    subject: str  # the column, metric or figure the rule watches
    active: bool
    value: float | None
    threshold: float | None
    message: str


@dataclass
class Outcome:
    raised: list[dict[str, Any]] = field(default_factory=list)
    cleared: list[dict[str, Any]] = field(default_factory=list)
    sink_errors: list[str] = field(default_factory=list)
    resent: list[dict[str, Any]] = field(default_factory=list)  # events of earlier runs delivered now


def conditions(
    design: Design,
    drifted: DriftReport | None,
    performance: Performance | None,
    latency_p95_ms: float | None,
    error_rate: float | None = None,
) -> list[Condition]:
    """Every rule of the design, evaluated on one window (inactive ones clear open episodes)."""
    out: list[Condition] = []
    for row in drifted.rows if drifted else []:
        if row.level in ("no data", "too few rows"):
            continue  # no evidence either way: an open episode neither grows nor clears
        out.append(
            Condition(
                "drift",
                row.column,
                row.drifted,
                row.value,
                row.threshold,
                f"{row.column} drifted: {row.statistic} {row.value:.3f} > {row.threshold:g}",
            )
        )
    rule = design.monitoring.performance
    if rule is not None and performance is not None and performance.metrics:
        value = performance.value(rule.metric)
        metric = catalogue.CATALOGUE.get(rule.metric)
        judged = abs(value) if metric is not None and metric.direction == "zero" else value
        if rule.alert_above is not None:
            out.append(
                Condition(
                    "performance",
                    rule.metric,
                    judged > rule.alert_above,
                    value,
                    rule.alert_above,
                    f"{rule.metric} {value:,.4g} is above {rule.alert_above:g}",
                )
            )
        if rule.alert_below is not None:
            out.append(
                Condition(
                    "performance",
                    rule.metric,
                    judged < rule.alert_below,
                    value,
                    rule.alert_below,
                    f"{rule.metric} {value:,.4g} is below {rule.alert_below:g}",
                )
            )
    if performance is not None and performance.realised_value is not None and performance.estimated_value:
        floor = design.monitoring.value.alert_below_fraction_of_estimate * performance.estimated_value
        realised = performance.realised_value
        out.append(
            Condition(
                "value",
                "added_value",
                realised < floor,
                realised,
                floor,
                f"realised added value {realised:,.0f} {design.value.currency} per {design.value.period} "
                f"is below {floor:,.0f} ({design.monitoring.value.alert_below_fraction_of_estimate:.0%} "
                f"of the design's estimate)",
            )
        )
    for found in performance.fairness if performance is not None else []:
        for finding in found["findings"]:
            if finding["value"] is None:
                continue  # too few rows in a group, or a figure that cannot be computed: no evidence either way
            sign = ">" if finding["kind"] == "difference" else "<"
            out.append(
                Condition(
                    "fairness",
                    f"{found['column']} {finding['metric']} {finding['kind']}",
                    not finding["passed"],
                    finding["value"],
                    finding["limit"],
                    f"fairness across {found['column']}: {finding['metric'].replace('_', ' ')} {finding['kind']} "
                    f"{finding['value']:.3g} {sign} {finding['limit']:g} — {finding['detail']}",
                )
            )
    if latency_p95_ms is not None:
        limit = design.requirements.latency_p95_ms
        out.append(
            Condition(
                "latency",
                "p95",
                latency_p95_ms > limit,
                latency_p95_ms,
                limit,
                f"latency p95 {latency_p95_ms:.1f} ms is over the required {limit:g} ms",
            )
        )
    if error_rate is not None:
        limit = design.monitoring.errors.alert_above
        out.append(
            Condition(
                "errors",
                "error_rate",
                error_rate > limit,
                error_rate,
                limit,
                f"{error_rate:.1%} of scoring requests failed (alert above {limit:.0%})",
            )
        )
    return out


def persistent(found: list[Condition], before: Sequence[dict[str, str] | None], consecutive: int) -> list[Condition]:
    """Drift conditions held to ``consecutive`` windows in a row (``monitoring.drift.consecutive``).

    ``before``: the drift levels per column of the windows just before this one, nearest first (None
    where a window was not computed); the first ``consecutive − 1`` are read. A column past alert for fewer windows in a
    row raises nothing yet, and one back under it for fewer windows clears nothing yet: its condition
    is left out, as for a window with too few rows — no evidence either way. So a column that alerts
    one week and clears the next opens no episode at all.
    """
    if consecutive <= 1:
        return found
    out = []
    for condition in found:
        if condition.rule != "drift":
            out.append(condition)
            continue
        earlier = [levels.get(condition.subject) if levels else None for levels in before[: consecutive - 1]]
        wanted = ("alert",) if condition.active else ("ok", "warn")
        if len(earlier) >= consecutive - 1 and all(level in wanted for level in earlier):
            message = f"{condition.message} ({consecutive} windows in a row)" if condition.active else condition.message
            out.append(replace(condition, message=message))
    return out


# ── sinks ────────────────────────────────────────────────────────────────────────────
class Sink(Protocol):
    name: str  # the kind, as the design names it
    where: str  # the file or address: with the name, what the outbox keeps an event for

    def send(self, event: dict[str, Any]) -> None: ...


class LogSink:
    name = "log"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def send(self, event: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event, default=str) + "\n")


class WebhookSink:
    name = "webhook"

    def __init__(self, url: str, *, timeout: float = 5.0, retries: int = 3) -> None:
        self.url = self.where = url
        self.timeout = timeout
        self.retries = retries

    def send(self, event: dict[str, Any]) -> None:
        body = json.dumps(event, default=str).encode()
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    if 200 <= answer.status < 300:
                        return
                    last = AlertNotDelivered(f"HTTP {answer.status}")
            except (urllib.error.URLError, OSError) as exc:
                if _timed_out(exc):
                    raise AlertNotDelivered(f"{self.url} did not answer within {self.timeout:g} s") from None
                last = exc
            if attempt < self.retries:
                time.sleep(min(2.0, 0.2 * 2**attempt))
        raise AlertNotDelivered(f"{self.url} did not take the alert after {self.retries + 1} attempts: {last}")


def _timed_out(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or isinstance(getattr(exc, "reason", None), TimeoutError)


class PrometheusSink:
    """A gauge per rule and subject: 1 while an episode is open, 0 once cleared (textfile format)."""

    name = "prometheus"

    def __init__(self, path: Path, store: Store) -> None:
        self.path = path
        self.where = str(path)
        self.store = store

    def send(self, event: dict[str, Any]) -> None:
        from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

        registry = CollectorRegistry()
        gauge = Gauge("mlcycle_alert_open", "1 while an alert episode is open", ["rule", "subject"], registry=registry)
        for episode in self.store.history.alerts():
            gauge.labels(episode.rule, episode.subject).set(0 if episode.closed_at else 1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(self.path), registry)


def sinks_for(design: Design, state_dir: Path, store: Store) -> list[Sink]:
    out: list[Sink] = [PrometheusSink(state_dir / "alerts.prom", store)]
    for sink in design.monitoring.alerts:
        out.append(_sink(sink, state_dir))
    return out


def _webhook(spec: AlertSink, state_dir: Path) -> Sink:
    assert spec.url is not None  # the contract refuses a webhook without a url
    return WebhookSink(spec.url, timeout=spec.timeout_seconds, retries=spec.retries)


# The sinks a design may name under monitoring.alerts, by kind; the contract is told the names.
SINKS: dict[str, Callable[[AlertSink, Path], Sink]] = {
    "log": lambda spec, state_dir: LogSink(state_dir / "alerts.log"),
    "webhook": _webhook,
}
for _kind in SINKS:
    tell_sink(_kind)


def _sink(spec: AlertSink, state_dir: Path) -> Sink:
    return SINKS[spec.kind](spec, state_dir)


# ── delivery ─────────────────────────────────────────────────────────────────────────
class Delivery:
    """One monitoring run's sinks, with the store's outbox behind them (see the module's docstring)."""

    def __init__(self, store: Store, sinks: Sequence[Sink]) -> None:
        self.store = store
        self.sinks = list(sinks)
        self.failed: dict[str, str] = {}  # outbox key → why that sink failed in this run

    def resend(self) -> Outcome:
        """Send again, oldest first, what earlier runs could not deliver to the sinks of this run."""
        outcome = Outcome()
        for sink in self.sinks:
            key = _key(sink)
            for queued in self.store.history.queued_alerts(key):
                if key in self.failed:
                    break  # the rest waits for the next run: this sink already cost one failure
                try:
                    sink.send(queued.event)
                except Exception as exc:  # whatever a sink raises, the event stays queued
                    self.failed[key] = str(exc)
                    self.store.history.alert_sent(queued.id, str(exc))
                    outcome.sink_errors.append(_waiting(sink, exc, queued.attempts + 1))
                else:
                    self.store.history.alert_sent(queued.id)
                    outcome.resent.append(queued.event)
        return outcome

    def send(self, event: dict[str, Any], outcome: Outcome) -> None:
        """Give ``event`` to every sink; what a sink does not take is queued and reported in ``outcome``."""
        for sink in self.sinks:
            key = _key(sink)
            if key in self.failed:
                self.store.history.queue_alert(key, event, f"not tried: {self.failed[key]}")
                continue
            try:
                sink.send(event)
            except Exception as exc:  # a failing sink is reported, never fatal
                self.failed[key] = str(exc)
                self.store.history.queue_alert(key, event, str(exc))
                outcome.sink_errors.append(_waiting(sink, exc, 1))


def _key(sink: Sink) -> str:
    return f"{sink.name} {sink.where}"


def _waiting(sink: Sink, exc: BaseException, attempts: int) -> str:
    return f"{sink.name}: {exc} — kept in the store after {attempts} run(s), sent again by the next `mlcycle monitor`"


# ── episodes ─────────────────────────────────────────────────────────────────────────
def process(
    use_case: str,
    store: Store,
    found: list[Condition],
    sinks: Sequence[Sink] | Delivery,
    when: datetime | None = None,
) -> Outcome:
    """Open an episode for each new active condition, close the ones that ended, tell the sinks once."""
    outcome = Outcome()
    from mlcycle.store import utcnow

    delivery = sinks if isinstance(sinks, Delivery) else Delivery(store, sinks)
    when = when or utcnow()
    for condition in found:
        event = {"id": uuid.uuid4().hex, "use_case": use_case, "at": when.isoformat(), **asdict(condition)}
        if condition.active and store.history.open_alert(
            condition.rule, condition.subject, condition.value, condition.threshold, condition.message, when
        ):
            outcome.raised.append({**event, "state": "raised"})
        elif not condition.active and store.history.close_alert(condition.rule, condition.subject, when):
            outcome.cleared.append({**event, "state": "cleared"})
    for event in [*outcome.raised, *outcome.cleared]:
        delivery.send(event, outcome)
    return outcome
