"""Prometheus metrics of the service: requests by endpoint and status, latency, predictions, model version,
and the drift of each column in the latest monitored window (read from the store once a minute).

With several workers (``mlcycle serve --workers N``) prometheus-client's multiprocess mode
is on (``PROMETHEUS_MULTIPROC_DIR``, set by ``serve``), and ``/metrics`` adds up every worker.

Several replicas (``mlcycle serve`` on several hosts behind a load balancer) each expose their own
``/metrics``: Prometheus scrapes each as a target and tells them apart by the ``instance`` label it adds,
and ``sum by (endpoint) (mlcycle_requests_total)`` adds them up — nothing is shared between replicas but
the store. ``mlcycle_replica_info`` names the replica (``MLCYCLE_REPLICA``, else ``host:port``) and its use
case, for dashboards that join on it.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

if TYPE_CHECKING:
    from mlcycle.store import StoredWindow

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
VALUE_BUCKETS = (0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000)


REPLICA_ENV = "MLCYCLE_REPLICA"  # the replica's name in mlcycle_replica_info (``serve`` sets host:port)


class ServiceMetrics:
    def __init__(self, use_case: str = "") -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        registry = None if self.multiprocess else CollectorRegistry()
        self.registry = registry
        self.replica = os.environ.get(REPLICA_ENV) or socket.gethostname()
        Gauge(
            "mlcycle_replica_info",
            "This replica of the service (1): its name and use case; each replica's /metrics is its own",
            ["replica", "use_case"],
            registry=registry,
            multiprocess_mode="liveall",
        ).labels(self.replica, use_case).set(1)
        self.requests = Counter(
            "mlcycle_requests", "Requests by endpoint and status", ["endpoint", "status"], registry=registry
        )
        self.latency = Histogram(
            "mlcycle_request_latency_seconds",
            "Request latency",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.predictions = Histogram(
            "mlcycle_prediction_value", "Predicted values", buckets=VALUE_BUCKETS, registry=registry
        )
        self.model = Gauge(
            "mlcycle_model_version_info",
            "The model version being served (1 = serving)",
            ["name", "version"],
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.unlogged = Counter(
            "mlcycle_unlogged_predictions",
            "Predictions answered although the store could not log them (only when compliance.audit_log is off)",
            registry=registry,
        )
        self.store_up = Gauge(
            "mlcycle_store_up",
            "1 when the last write to the monitoring store succeeded, 0 while it fails",
            registry=registry,
            multiprocess_mode="min",
        )
        self.drift = Gauge(
            "mlcycle_drift",
            "Drift statistic per column in the latest monitored window (`mlcycle monitor`)",
            ["column", "statistic"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.drift_threshold = Gauge(
            "mlcycle_drift_alert_threshold",
            "The design's alert threshold per column",
            ["column", "statistic"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )

    def show_drift(self, window: StoredWindow | None) -> None:
        """Set the drift gauges from a stored monitoring window (see ``MonitoringHistory.windows``)."""
        for cell in window.details.get("drift", []) if window else []:
            if cell.get("value") is not None:
                self.drift.labels(cell["column"], cell["statistic"]).set(cell["value"])
                self.drift_threshold.labels(cell["column"], cell["statistic"]).set(cell["threshold"])

    def render(self) -> tuple[bytes, str]:
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        assert self.registry is not None
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
