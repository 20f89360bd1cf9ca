"""Alerts: raised once per episode and cleared once; sinks — a JSON log, a real local webhook (up and down),
a Prometheus textfile."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mlcycle.contract import spec
from mlcycle.monitor import alerts
from mlcycle.monitor.drift import DriftReport, DriftRow
from mlcycle.monitor.performance import Performance
from mlcycle.store import open_store
from tests.conftest import minimal_design


def _design() -> spec.Design:
    design = minimal_design()
    design["monitoring"] = {"performance": {"metric": "mae", "alert_above": 10}}
    return spec.parse(design)


def _drift(value: float) -> DriftReport:
    return DriftReport(
        [DriftRow("price", "wasserstein", value, 0.1, value > 0.1, 0.05, "alert" if value > 0.1 else "ok")]
    )


def test_an_episode_is_raised_once_and_cleared_once(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    log = alerts.LogSink(tmp_path / "alerts.log")
    design = _design()
    raised = cleared = 0
    for value in (0.3, 0.4, 0.5, 0.02, 0.01, 0.35):  # drifting three windows, fine two, drifting again
        outcome = alerts.process("small-sales", store, alerts.conditions(design, _drift(value), None, None), [log])
        raised += len(outcome.raised)
        cleared += len(outcome.cleared)
    assert (raised, cleared) == (2, 1)
    lines = [json.loads(line) for line in (tmp_path / "alerts.log").read_text().splitlines()]
    assert [(e["rule"], e["state"]) for e in lines] == [
        ("drift", "raised"),
        ("drift", "cleared"),
        ("drift", "raised"),
    ]
    assert len(store.history.open_alerts()) == 1 and len(store.history.alerts()) == 2


@pytest.mark.parametrize(
    ("consecutive", "expected"),
    [
        (1, [("raised", 1), ("cleared", 2), ("raised", 3), ("cleared", 6), ("raised", 7), ("cleared", 8)]),
        (2, [("raised", 4), ("cleared", 9)]),
        (3, [("raised", 5)]),
    ],
)
def test_consecutive_windows_stop_an_episode_flapping(
    tmp_path: Path, consecutive: int, expected: list[tuple[str, int]]
) -> None:
    """monitoring.drift.consecutive: an episode opens after N windows past alert, clears after N back under."""
    store = open_store(tmp_path)
    design = _design()
    values = (0.02, 0.3, 0.02, 0.3, 0.4, 0.5, 0.02, 0.3, 0.02, 0.03)  # one blip, a real run, one more blip
    before: list[dict[str, str]] = []
    events = []
    for window, value in enumerate(values):
        report = _drift(value)
        found = alerts.persistent(alerts.conditions(design, report, None, None), before[::-1], consecutive)
        outcome = alerts.process("small-sales", store, found, [])
        events += [("raised", window) for _ in outcome.raised] + [("cleared", window) for _ in outcome.cleared]
        before.append({r.column: r.level for r in report.rows})
    assert events == expected
    if consecutive > 1:
        assert f"({consecutive} windows in a row)" in store.history.alerts()[0].message


def test_performance_value_and_latency_rules() -> None:
    design = _design()
    performance = Performance(
        100, 80, metrics={"data_scientist": {"mae": 12.0}}, realised_value=100.0, estimated_value=1000.0
    )
    found = {(c.rule, c.subject): c for c in alerts.conditions(design, None, performance, latency_p95_ms=250.0)}
    assert found[("performance", "mae")].active and "above 10" in found[("performance", "mae")].message
    assert found[("value", "added_value")].active  # 100 realised < 50 % of 1,000 estimated
    assert found[("latency", "p95")].active
    calm = Performance(100, 80, metrics={"data_scientist": {"mae": 8.0}}, realised_value=900.0, estimated_value=1000.0)
    assert not any(c.active for c in alerts.conditions(design, None, calm, latency_p95_ms=5.0))
    assert alerts.conditions(design, None, Performance(10, 0), None) == []  # no actuals: no performance alert


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_webhook_reaches_a_real_receiver(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sink = alerts.WebhookSink(f"http://127.0.0.1:{server.server_port}/hook", timeout=2, retries=1)
        outcome = alerts.process(
            "small-sales", open_store(tmp_path), alerts.conditions(_design(), _drift(0.4), None, None), [sink]
        )
        assert outcome.sink_errors == [] and len(outcome.raised) == 1
        assert _Receiver.received[-1]["subject"] == "price" and _Receiver.received[-1]["state"] == "raised"
    finally:
        server.shutdown()


def test_a_receiver_that_is_down_is_reported_and_monitoring_goes_on(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    down = alerts.WebhookSink(f"http://127.0.0.1:{_free_port()}/hook", timeout=0.5, retries=2)
    log = alerts.LogSink(tmp_path / "alerts.log")
    outcome = alerts.process("small-sales", store, alerts.conditions(_design(), _drift(0.4), None, None), [down, log])
    assert len(outcome.raised) == 1 and len(outcome.sink_errors) == 1
    assert "after 3 attempts" in outcome.sink_errors[0]
    assert (tmp_path / "alerts.log").read_text().count("raised") == 1  # the next sink still got it
    again = alerts.Delivery(store, [down, log]).resend()  # the next run: still down, still kept
    assert again.resent == [] and "after 2 run(s)" in again.sink_errors[0]
    assert [(q.sink.split()[0], q.attempts) for q in store.history.queued_alerts()] == [("webhook", 2)]


def test_a_slow_receiver_costs_a_run_one_timeout_and_gets_what_it_missed_on_the_next(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    hook = _SlowHook(seconds=10)
    try:
        sink = alerts.WebhookSink(hook.url, timeout=0.5, retries=3)
        log = alerts.LogSink(tmp_path / "alerts.log")
        two = DriftReport([_drift(0.4).rows[0], DriftRow("promo", "psi", 0.5, 0.2, True, 0.1, "alert")])
        started = time.monotonic()
        outcome = alerts.process("small-sales", store, alerts.conditions(_design(), two, None, None), [sink, log])
        took = time.monotonic() - started
        assert len(outcome.raised) == 2 and took < 3  # one 0.5 s timeout — not 2 alerts × 4 attempts × 10 s
        assert len(outcome.sink_errors) == 1 and "did not answer within 0.5 s" in outcome.sink_errors[0]
        assert (tmp_path / "alerts.log").read_text().count("raised") == 2  # the log sink did not wait
        queued = store.history.queued_alerts()
        assert [q.event["subject"] for q in queued] == ["price", "promo"]
        hook.seconds = 0  # the receiver is back
        resent = alerts.Delivery(store, [sink, log]).resend()
        assert resent.sink_errors == [] and store.history.queued_alerts() == []
        assert [e["id"] for e in hook.received] == [e["id"] for e in resent.resent] == [q.event["id"] for q in queued]
        assert [e["state"] for e in hook.received] == ["raised", "raised"]
    finally:
        hook.close()


class _SlowHook:
    """A webhook receiver on a free port that waits ``seconds`` before reading each alert."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.received: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                time.sleep(hook.seconds)
                hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_prometheus_gauge_per_rule(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    gauge = alerts.PrometheusSink(tmp_path / "alerts.prom", store)
    alerts.process("small-sales", store, alerts.conditions(_design(), _drift(0.4), None, None), [gauge])
    assert 'mlcycle_alert_open{rule="drift",subject="price"} 1.0' in (tmp_path / "alerts.prom").read_text()
    alerts.process("small-sales", store, alerts.conditions(_design(), _drift(0.01), None, None), [gauge])
    assert 'mlcycle_alert_open{rule="drift",subject="price"} 0.0' in (tmp_path / "alerts.prom").read_text()


@pytest.mark.parametrize("kind", ["log", "webhook"])
def test_sinks_come_from_the_design(tmp_path: Path, kind: str) -> None:
    design = _design()
    design.monitoring.alerts = [spec.AlertSink(kind=kind, url="http://127.0.0.1:9/hook" if kind == "webhook" else None)]
    names = [s.name for s in alerts.sinks_for(design, tmp_path, open_store(tmp_path))]
    assert names == ["prometheus", kind]


def test_a_window_beyond_max_disparity_raises_a_fairness_alert() -> None:
    design = _design()

    def finding(value: float | None, passed: bool) -> dict[str, Any]:
        detail = "false-negative rate is 0.20 for M against 0.45 for F"
        return {
            "metric": "false_negative_rate",
            "kind": "difference",
            "limit": 0.1,
            "value": value,
            "passed": passed,
            "detail": detail,
        }

    def window(*findings: dict[str, Any]) -> Performance:
        return Performance(200, 200, fairness=[{"column": "gender", "groups": [], "findings": list(findings)}])

    found = alerts.conditions(design, None, window(finding(0.25, False)), None)
    assert [(c.rule, c.subject, c.active) for c in found] == [
        ("fairness", "gender false_negative_rate difference", True)
    ]
    assert "0.25 > 0.1" in found[0].message and "for F" in found[0].message
    assert [c.active for c in alerts.conditions(design, None, window(finding(0.05, True)), None)] == [False]
    assert alerts.conditions(design, None, window(finding(None, True)), None) == []  # no evidence: neither way
