"""Keys under attack, every route's scope, secrets kept out of what the service says, an append-only audit log."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from mlcycle.deploy import create_app
from mlcycle.deploy.auth import FAILURES_PER_MINUTE, FailureLimiter
from mlcycle.store import open_store
from tests.deploy.conftest import copy_use_case, sales_rows

PROBES = {"/health", "/ping", "/v2/health/live", "/v2/health/ready"}
PROBES |= {"/v2/models/{name}/ready", "/v2/models/{name}/versions/{version}/ready"}


@pytest.fixture(scope="module")
def keyed(promoted_example: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, TestClient, dict]]:
    uc = copy_use_case(promoted_example[0], tmp_path_factory.mktemp("keyed") / "uc")
    keys = {
        scope: open_store(uc.state_dir).keys.create(scope, f"{scope} key").secret
        for scope in ("view", "predict", "feedback", "admin")
    }
    with TestClient(create_app(uc.workspace, poll_seconds=0.5)) as client:
        yield uc, client, keys


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI keeps those whole, as ``original_router``)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def routes(client: TestClient) -> list[tuple[str, str, str | None]]:
    """(method, path, scope) of every route of the app; scope None when no key is asked for."""
    out = []
    for route in api_routes(client.app.routes):  # type: ignore[attr-defined]
        scopes = [getattr(d.call, "scope", None) for d in route.dependant.dependencies]
        scope = next((s for s in scopes if s is not None), None)
        out += [(method, route.path, scope) for method in sorted(route.methods)]
    return out


def concrete(path: str, uc: Any) -> str:
    return path.replace("{name}", uc.name).replace("{version}", "1")


def test_every_route_but_the_health_probes_declares_a_scope_and_refuses_without_a_key(keyed: Any) -> None:
    uc, client, _ = keyed
    listed = routes(client)
    assert len(listed) >= 18
    open_routes = {path for _, path, scope in listed if scope is None}
    assert open_routes == PROBES, f"routes without a scope: {sorted(open_routes - PROBES)}"
    for method, path, _ in listed:
        if path in PROBES:
            continue
        answer = client.request(method, concrete(path, uc), headers={"X-Forwarded-For": "x"})
        assert answer.status_code == 401, f"{method} {path} answered {answer.status_code} without a key"
        client.app.state.auth.limiter = FailureLimiter()  # this test is not about the limit


def test_each_scope_opens_its_routes_and_no_other(keyed: Any) -> None:
    uc, client, keys = keyed
    for method, path, needed in routes(client):
        if needed is None:
            continue
        for scope, secret in keys.items():
            answer = client.request(method, concrete(path, uc), headers={"X-API-Key": secret}, json={})
            allowed = scope in (needed, "admin") or needed == "view"
            assert (answer.status_code != 403) == allowed, f"{scope} key on {method} {path}: {answer.status_code}"


def test_repeated_wrong_keys_are_slowed_to_429_and_logged_without_the_key(
    keyed: Any, caplog: pytest.LogCaptureFixture
) -> None:
    uc, client, keys = keyed
    client.app.state.auth.limiter = FailureLimiter()
    rows = {"records": sales_rows(uc, 1)}
    wrong = [f"mlc_deadbeef_{'x' * 40}{i}" for i in range(FAILURES_PER_MINUTE)]
    with caplog.at_level(logging.WARNING, logger="mlcycle.auth"):
        for secret in wrong:
            assert client.post("/predict", json=rows, headers={"X-API-Key": secret}).status_code == 401
        refused = client.post("/predict", json=rows, headers={"X-API-Key": keys["predict"]})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "too many failed API keys" in refused.json()["detail"]
    assert len(caplog.records) == FAILURES_PER_MINUTE + 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "unknown or revoked key" in logged and not any(s in logged for s in wrong + list(keys.values()))
    assert len(client.app.state.auth.keys) <= len(keys)  # wrong keys are never remembered
    client.app.state.auth.limiter = FailureLimiter()
    assert client.post("/predict", json=rows, headers={"X-API-Key": keys["predict"]}).status_code == 200


def test_the_failure_table_is_bounded_whatever_the_clients_send() -> None:
    limiter = FailureLimiter(limit=3, window=60, max_clients=100)
    for i in range(10_000):
        limiter.fail(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 100
    for _ in range(3):
        limiter.fail("attacker")
    assert limiter.blocked_for("attacker") > 0 and limiter.blocked_for("someone else") == 0


def test_no_secret_in_answers_metrics_or_logs(keyed: Any, caplog: pytest.LogCaptureFixture) -> None:
    uc, client, keys = keyed
    headers = {"X-API-Key": keys["admin"]}
    with caplog.at_level(logging.DEBUG):
        bodies = [
            client.post("/predict", json={"records": sales_rows(uc, 2)}, headers=headers).text,
            client.post("/predict", json={"records": [{"price": "x"}]}, headers=headers).text,
            client.get("/metrics", headers=headers).text,
            client.get("/version", headers=headers).text,
            client.get("/health").text,
            client.get("/openapi.json", headers=headers).text,
            client.post("/admin/reload", headers=headers).text,
        ]
    said = "\n".join(bodies) + "\n".join(r.getMessage() for r in caplog.records)
    for secret in keys.values():
        assert secret not in said and secret[len("mlc_12345678_") :] not in said


def test_no_route_changes_or_deletes_a_logged_prediction(keyed: Any) -> None:
    uc, client, keys = keyed
    methods = {method for method, _, _ in routes(client)}
    assert methods <= {"GET", "POST", "HEAD"}, f"a route may change what is stored: {methods}"
    headers = {"X-API-Key": keys["admin"]}
    answer = client.post("/predict", json={"records": sales_rows(uc, 1)}, headers=headers).json()
    request_id = answer["request_ids"][0]
    before = open_store(uc.state_dir).predictions.get(request_id)
    actual = client.post("/feedback", json={"items": [{"request_id": request_id, "actual": 7}]}, headers=headers)
    assert actual.status_code == 200
    again = client.post("/feedback", json={"items": [{"request_id": request_id, "actual": 9}]}, headers=headers)
    assert again.status_code in (200, 409, 422)
    assert open_store(uc.state_dir).predictions.get(request_id) == before  # feedback beside it, never over it
    for _, path, _ in routes(client):
        assert not re.search(r"delete|update|remove", path, re.IGNORECASE), path
