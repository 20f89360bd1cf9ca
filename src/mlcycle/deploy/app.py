"""The prediction microservice: FastAPI app factory.

``create_app(ws)`` wires the routers (``routers/predict.py``, ``routers/protocols.py``,
``routers/admin.py``) to one :class:`~mlcycle.deploy.serving.Serving` (the champion), one
:class:`~mlcycle.deploy.predictlog.PredictionLog` (group commit to the store), API-key auth
and Prometheus metrics. On start it loads the champion and starts a poller that follows the
``champion`` alias; on shutdown uvicorn drains in-flight requests, then the log writer
commits what is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from mlcycle._version import __version__
from mlcycle.deploy.auth import Auth
from mlcycle.deploy.bodies import BodyGuard, problem
from mlcycle.deploy.metrics import ServiceMetrics
from mlcycle.deploy.openapi import describe
from mlcycle.deploy.predictlog import PredictionLog
from mlcycle.deploy.routers import admin, predict, protocols
from mlcycle.deploy.serving import Serving
from mlcycle.exceptions import ModelError, RequestRejected
from mlcycle.store import Store, open_store

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace

POLL_SECONDS = 2.0


def create_app(
    ws: Workspace, *, store: Store | None = None, migrate: bool = True, poll_seconds: float = POLL_SECONDS
) -> FastAPI:
    store = store or open_store(ws.state_dir, migrate=migrate)
    serving = Serving(ws, store)
    metrics = ServiceMetrics(ws.name)
    max_body = int(ws.spec.deployment.max_body_mb * 1024 * 1024)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            loaded = serving.load_champion()
            metrics.model.labels(ws.name, loaded.version).set(1)
        except ModelError as refused:
            serving.last_error = str(refused)  # /health says 503 with the reason; the poller keeps trying
        await asyncio.to_thread(serving.prune)  # retention, once per start (and daily by the poller)
        log = PredictionLog(store, required=ws.spec.requirements.compliance.audit_log, on_unlogged=metrics.unlogged.inc)
        app.state.log = log
        metrics.store_up.set(1)
        poller = asyncio.create_task(_poll(serving, log, metrics, poll_seconds))
        try:
            yield
        finally:
            poller.cancel()
            log.close()
            serving.flush_errors()

    app = FastAPI(
        title=f"mlcycle — {ws.name}",
        version=__version__,
        lifespan=lifespan,
        description=ws.spec.description or "Predictions for one use case, logged for audit.",
        # The description is served by routers/admin.py behind a key (it lists the model's categories); no
        # /docs page: FastAPI's loads Swagger UI from a CDN, and the service makes no request outside.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.openapi = lambda: describe(app, serving)  # type: ignore[method-assign]
    app.state.serving = serving
    app.state.store = store
    app.state.metrics = metrics
    app.state.auth = Auth(store)
    app.include_router(predict.router)
    app.include_router(protocols.router)
    app.include_router(admin.router)

    deployment = ws.spec.deployment
    app.add_middleware(
        BodyGuard, max_body=max_body, limit_mb=deployment.max_body_mb, seconds=deployment.max_body_seconds
    )
    app.add_middleware(_Measure, metrics=metrics)  # outermost: counts the guard's refusals too

    @app.exception_handler(RequestRejected)
    async def rejected(request: Request, error: RequestRejected) -> JSONResponse:
        """Refusals raised by dependencies (keys, retirement): one message, or one per field."""
        return problem(error)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        detail = [
            {
                "row": _row(e["loc"]),
                "field": ".".join(str(p) for p in e["loc"] if p != "body"),
                "message": e["msg"],
            }
            for e in error.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    return app


SCORING_ROUTES = frozenset(
    {
        "/predict",
        "/explain",
        "/invocations",
        "/v2/models/{name}/infer",
        "/v2/models/{name}/versions/{version}/infer",
    }
)
NOT_FAILURES = frozenset(
    {401, 403, 404, 410}
)  # refused on purpose (auth, unknown model, retired): not the model failing


class _Measure:
    """Pure ASGI middleware: records request count and latency by route and status.

    (Starlette's BaseHTTPMiddleware would cost about a millisecond a request; this costs microseconds.)
    """

    def __init__(self, app: Any, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(endpoint, str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
            if status >= 400 and status not in NOT_FAILURES and endpoint in SCORING_ROUTES:
                scope["app"].state.serving.note_error(endpoint, status)


def _row(loc: tuple[Any, ...]) -> int | None:
    numbers = [p for p in loc if isinstance(p, int)]
    return numbers[0] if numbers else None


PRUNE_EVERY_SECONDS = 24 * 3600


DRIFT_EVERY_SECONDS = 60


async def _poll(serving: Serving, log: PredictionLog, metrics: ServiceMetrics, seconds: float) -> None:
    """Follow the champion alias and other workers' feedback, off the event loop; prune daily; drift gauges;
    while the store refuses writes, probe it, so the service knows when it may answer again. Each step fails on
    its own: with the store down the alias (in MLflow's registry) is still followed, and nothing ends the loop."""
    pruned = time.monotonic()
    drift_read = -float("inf")
    while True:
        await asyncio.sleep(seconds)
        if not log.state.ok:
            await asyncio.to_thread(log.probe)
        metrics.store_up.set(1 if log.state.ok else 0)
        if time.monotonic() - pruned > PRUNE_EVERY_SECONDS:
            pruned = time.monotonic()
            try:
                await asyncio.to_thread(serving.prune)
            except Exception as exc:  # tomorrow's prune deletes what today's could not
                serving.last_error = f"pruning the prediction log failed: {exc}"
        if time.monotonic() - drift_read > DRIFT_EVERY_SECONDS:
            drift_read = time.monotonic()
            try:
                latest = await asyncio.to_thread(serving.store.history.windows, last=1)
                metrics.show_drift(latest[0] if latest else None)
            except Exception as exc:  # gauges are a convenience; they never take the service down
                serving.last_error = f"reading the latest window failed: {exc}"
        before = serving.current.version if serving.current else None
        try:
            await asyncio.to_thread(serving.poll)
        except Exception as exc:  # a poll must never kill the service; the next one tries again
            serving.last_error = f"poll failed: {exc}"
        after = serving.current.version if serving.current else None
        if after != before and after is not None:
            if before is not None:
                metrics.model.labels(serving.ws.name, before).set(0)
            metrics.model.labels(serving.ws.name, after).set(1)
