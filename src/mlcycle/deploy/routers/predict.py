"""mlcycle's own endpoints: /predict, /explain, /feedback."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from mlcycle.deploy import series
from mlcycle.deploy.dependencies import get_log, get_metrics, get_serving, in_service, require
from mlcycle.deploy.metrics import ServiceMetrics
from mlcycle.deploy.predictlog import PredictionLog
from mlcycle.deploy.scoring import ascore
from mlcycle.deploy.serving import Serving
from mlcycle.exceptions import RequestRejected

router = APIRouter()


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]] = Field(description="Rows of column: value; the model's input columns at least.")
    explain: bool = Field(False, description="Add per-feature contributions and a plain-language sentence per row.")


class PredictResponse(BaseModel):
    model: str
    version: str
    predictions: list[Any]
    request_ids: list[str]
    explanations: list[dict[str, Any]] | None = None


class ExplainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]]


class FeedbackEntry(BaseModel):
    model_config = ConfigDict(extra="allow")
    actual: Any = Field(description="What really happened (the target's value).")
    request_id: str | None = Field(None, description="The prediction's request id; or give the series keys and time.")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[FeedbackEntry]


def rejected(error: RequestRejected) -> JSONResponse:
    return JSONResponse({"detail": error.detail}, status_code=error.status)


@router.post(
    "/predict",
    response_model=PredictResponse,
    response_model_exclude_none=True,
    dependencies=[Depends(require("predict")), Depends(in_service)],
)
async def predict(
    body: PredictRequest,
    serving: Serving = Depends(get_serving),
    log: PredictionLog = Depends(get_log),
    metrics: ServiceMetrics = Depends(get_metrics),
) -> Any:
    try:
        result = await ascore(serving, body.records, explain=body.explain)
    except RequestRejected as error:
        return rejected(error)
    await log.awrite(result.records)  # logged before the response is sent
    for value in result.values:
        metrics.predictions.observe(float(value))
    return {
        "model": serving.ws.name,
        "version": result.version,
        "predictions": result.outputs,
        "request_ids": result.request_ids,
        "explanations": result.explanations,
    }


@router.post("/explain", dependencies=[Depends(require("predict")), Depends(in_service)])
async def explain(
    body: ExplainRequest, serving: Serving = Depends(get_serving), log: PredictionLog = Depends(get_log)
) -> Any:
    try:
        result = await ascore(serving, body.records, explain=True)
    except RequestRejected as error:
        return rejected(error)
    await log.awrite(result.records)
    return {
        "model": serving.ws.name,
        "version": result.version,
        "request_ids": result.request_ids,
        "explanations": result.explanations,
    }


@router.post("/feedback", dependencies=[Depends(require("feedback"))])
async def feedback(body: FeedbackRequest, serving: Serving = Depends(get_serving)) -> Any:
    entries = [(entry.actual, entry.request_id, entry.model_extra or {}) for entry in body.items]
    items, problems = series.feedback_items(serving.ws.spec, entries)
    if problems:
        return JSONResponse({"detail": [dataclasses.asdict(p) for p in problems]}, status_code=422)
    unknown = serving.store.feedback.add(items)
    if unknown:
        return JSONResponse(
            {
                "detail": [
                    {
                        "row": None,
                        "field": "request_id",
                        "message": f"unknown request id(s): {', '.join(unknown)}; nothing was stored",
                    }
                ]
            },
            status_code=404,
        )
    serving.refresh_history()  # lag features see the new actuals from the next request on
    return {"stored": len(items)}
