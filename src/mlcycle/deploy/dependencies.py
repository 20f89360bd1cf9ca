"""Dependencies shared by the routers (overridable in tests through ``app.dependency_overrides``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request

from mlcycle.deploy.auth import Auth
from mlcycle.deploy.metrics import ServiceMetrics
from mlcycle.deploy.predictlog import PredictionLog
from mlcycle.deploy.serving import Serving
from mlcycle.exceptions import RequestRejected


def get_serving(request: Request) -> Serving:
    return request.app.state.serving


def get_log(request: Request) -> PredictionLog:
    return request.app.state.log


def get_metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics


def require(scope: str) -> Callable[[Request], Any]:
    """A dependency that lets the request through only with a key of ``scope`` (or admin)."""

    def check(request: Request) -> None:
        if getattr(request.state, "key_checked", None) == scope:
            return  # GuardedRoute checked it before reading the body
        auth: Auth = request.app.state.auth
        auth.check(request, scope)

    check.scope = scope  # type: ignore[attr-defined]  # what the route needs, for the tests that list routes
    return check


def in_service(request: Request) -> None:
    """Scoring routes answer 410 Gone, with the reason, once the use case is retired (`mlcycle retire`)."""
    serving: Serving = request.app.state.serving
    if serving.retired is not None:
        raise RequestRejected(
            410,
            f"{serving.ws.name} is retired and no longer serves predictions "
            f"(since {serving.retired.get('at', '?')[:10]}): {serving.retired.get('reason')}",
        )
