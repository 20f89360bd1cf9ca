"""Health, version, Prometheus metrics and the reload of the champion."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from mlcycle._version import __version__
from mlcycle.deploy.dependencies import get_metrics, get_serving, require
from mlcycle.deploy.metrics import ServiceMetrics
from mlcycle.deploy.predictlog import RETRY_AFTER_SECONDS, PredictionLog
from mlcycle.deploy.schemas import WHY, responses
from mlcycle.deploy.serving import Serving
from mlcycle.exceptions import ModelError

router = APIRouter()


@router.get("/ping", responses={503: {"description": "No model loaded, or the audit log cannot be written."}})
@router.get("/health", responses={503: {"description": "No model loaded, or the audit log cannot be written."}})
def health(request: Request, serving: Serving = Depends(get_serving)) -> Any:
    """200 when a model is loaded (as MLflow's scoring server answers), 503 before — and 503 while the store
    refuses writes when every prediction must be logged (``compliance.audit_log``): this replica cannot answer."""
    log: PredictionLog | None = getattr(request.app.state, "log", None)
    store = log.state.as_dict() if log is not None else {"state": "ok"}
    if not serving.ready:
        return JSONResponse({"status": "loading", "error": serving.last_error, "store": store}, status_code=503)
    if serving.retired is not None:
        return {"status": "retired", "reason": serving.retired.get("reason"), "model": serving.ws.name, "store": store}
    answer = {
        "status": "ok",
        "model": serving.ws.name,
        "version": serving.current.version if serving.current else None,
        "store": store,
    }
    if log is not None and not log.state.ok and log.required:
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return JSONResponse({**answer, "status": "store unavailable"}, status_code=503, headers=retry)
    return answer


@router.get("/openapi.json", dependencies=[Depends(require("view"))], include_in_schema=False)
def openapi(request: Request) -> Any:
    """The OpenAPI description of the model being served (any valid key may read it)."""
    return JSONResponse(request.app.openapi())


@router.get("/version", dependencies=[Depends(require("predict"))], responses=responses())
def version(serving: Serving = Depends(get_serving)) -> Any:
    current = serving.current
    return {
        "mlcycle": __version__,
        "model": serving.ws.name,
        "version": current.version if current else None,
        "last_reload_error": serving.last_error,
    }


@router.get(
    "/metrics",
    dependencies=[Depends(require("predict"))],
    response_class=PlainTextResponse,
    responses={**responses(), 200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def metrics(metrics: ServiceMetrics = Depends(get_metrics)) -> Response:
    body, content_type = metrics.render()
    return PlainTextResponse(body, media_type=content_type)


@router.post(
    "/admin/reload",
    dependencies=[Depends(require("admin"))],
    responses={**responses(), 409: {"description": WHY[409]}},
)
def reload(serving: Serving = Depends(get_serving), metrics: ServiceMetrics = Depends(get_metrics)) -> Any:
    before = serving.current.version if serving.current else None
    try:
        loaded = serving.reload()
    except ModelError as refused:
        return JSONResponse({"reloaded": False, "serving": before, "reason": str(refused)}, status_code=409)
    if before != loaded.version:
        if before is not None:
            metrics.model.labels(serving.ws.name, before).set(0)
        metrics.model.labels(serving.ws.name, loaded.version).set(1)
    return {"reloaded": before != loaded.version, "serving": loaded.version, "previous": before}
