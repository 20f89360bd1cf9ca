"""Health, version, Prometheus metrics and the reload of the champion."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from mlcycle._version import __version__
from mlcycle.deploy.dependencies import get_metrics, get_serving, require
from mlcycle.deploy.metrics import ServiceMetrics
from mlcycle.deploy.serving import Serving
from mlcycle.exceptions import ModelError

router = APIRouter()


@router.get("/ping")
@router.get("/health")
def health(serving: Serving = Depends(get_serving)) -> Any:
    """200 when a model is loaded (as MLflow's scoring server answers), 503 before."""
    if not serving.ready:
        return JSONResponse({"status": "loading", "error": serving.last_error}, status_code=503)
    if serving.retired is not None:
        return {"status": "retired", "reason": serving.retired.get("reason"), "model": serving.ws.name}
    return {
        "status": "ok",
        "model": serving.ws.name,
        "version": serving.current.version if serving.current else None,
    }


@router.get("/version", dependencies=[Depends(require("predict"))])
def version(serving: Serving = Depends(get_serving)) -> Any:
    current = serving.current
    return {
        "mlcycle": __version__,
        "model": serving.ws.name,
        "version": current.version if current else None,
        "last_reload_error": serving.last_error,
    }


@router.get("/metrics", dependencies=[Depends(require("predict"))])
def metrics(metrics: ServiceMetrics = Depends(get_metrics)) -> Response:
    body, content_type = metrics.render()
    return PlainTextResponse(body, media_type=content_type)


@router.post("/admin/reload", dependencies=[Depends(require("admin"))])
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
