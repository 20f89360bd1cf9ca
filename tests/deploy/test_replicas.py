"""Two replicas of the service on one PostgreSQL store and one PostgreSQL-backed MLflow registry, as two hosts
behind a load balancer: every answer logged once, a promotion and a rollback followed by both, and each
replica's own /metrics."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from itertools import cycle
from typing import Any

import pytest

import mlcycle
from mlcycle.store import open_store
from tests.conftest import fresh_postgres_database, minimal_design, small_sales
from tests.servers import post, replicas


def _get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        return str(answer.read().decode())


def _versions(ports: list[int]) -> list[str]:
    return [json.loads(_get(port, "/version"))["version"] for port in ports]


def _until_both_serve(ports: list[int], version: str, seconds: float = 20) -> float:
    """Seconds until every replica serves ``version`` (each polls the registry on its own)."""
    started = time.monotonic()
    while _versions(ports) != [version] * len(ports):
        assert time.monotonic() - started < seconds, f"replicas serve {_versions(ports)}, not {version}"
        time.sleep(0.2)
    return time.monotonic() - started


def _requests(metrics: str) -> int:
    """Answered /predict requests in one replica's /metrics."""
    found = re.search(r'^mlcycle_requests_total\{endpoint="/predict",status="200"\} (\S+)$', metrics, re.M)
    return int(float(found.group(1))) if found else 0


def test_two_replicas_share_one_postgresql_store_and_registry(
    make_use_case: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = minimal_design()
    design["experiments"]["algorithms"] = {"ridge": {}, "lightgbm": {"n_estimators": [50]}}
    with fresh_postgres_database() as store_url, fresh_postgres_database() as tracking_url:
        env = {"MLCYCLE_STORE_URL": store_url, "MLCYCLE_TRACKING_URI": tracking_url}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        uc = mlcycle.UseCase.load(make_use_case(design, small_sales(days=120)))
        trials = uc.experiment(trials=2, report=False).trials
        first = uc.promote(run_id=trials[0].run_id, force=True, reason="replicas test: the first champion")
        assert not (uc.state_dir / "mlflow.db").exists() and not (uc.state_dir / "monitor.db").exists()

        with replicas(uc.folder, 2, env) as ports:
            # a client alternating between them, as a round-robin load balancer does
            answered: list[str] = []
            for port, day in zip(cycle(ports), range(40)):
                rows = [{"date": f"2024-05-{1 + day % 28:02d}", "item": item, "price": 2.0} for item in "AB"]
                status, body = post(port, "/predict", {"records": rows})
                assert status == 200, body
                answered += body["request_ids"]
            store = open_store(uc.state_dir, store_url)
            try:
                assert store.predictions.count() == len(answered) == len(set(answered)) == 80
                assert store.predictions.ids() == set(answered)
            finally:
                store.close()

            # each replica's /metrics counts its own requests; Prometheus adds them up across targets
            scraped = [_get(port, "/metrics") for port in ports]
            assert [_requests(text) for text in scraped] == [20, 20]
            names = [re.search(r'^mlcycle_replica_info\{replica="([^"]+)"', text, re.M) for text in scraped]
            assert all(names) and len({n.group(1) for n in names if n}) == 2

            # a promotion and a rollback, made elsewhere, reach both replicas through the registry
            assert _versions(ports) == [first.version] * 2
            second = uc.promote(run_id=trials[1].run_id, force=True, reason="replicas test: a new champion")
            assert second.version != first.version
            _until_both_serve(ports, second.version)
            uc.rollback()
            _until_both_serve(ports, first.version)
            status, body = post(ports[1], "/predict", {"records": rows})
            assert status == 200 and body["version"] == first.version
