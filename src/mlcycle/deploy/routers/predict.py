"""mlcycle's own endpoints: /predict, /explain, /feedback."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from mlcycle.deploy import series
from mlcycle.deploy.bodies import GuardedRoute
from mlcycle.deploy.dependencies import get_log, get_metrics, get_serving, in_service, require
from mlcycle.deploy.metrics import ServiceMetrics
from mlcycle.deploy.predictlog import PredictionLog, unavailable
from mlcycle.deploy.schemas import FieldProblem, responses
from mlcycle.deploy.scoring import ascore
from mlcycle.deploy.serving import Serving
from mlcycle.exceptions import RequestRejected

router = APIRouter(route_class=GuardedRoute)


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # minItems is declared, not enforced here: scoring refuses an empty list itself, saying so in plain words.
    records: list[dict[str, Any]] = Field(
        description="Rows of column: value; the model's input columns at least.", json_schema_extra={"minItems": 1}
    )
    explain: StrictBool = Field(
        False, description="Add per-feature contributions and a plain-language sentence per row."
    )


class PredictResponse(BaseModel):
    model: str
    version: str
    predictions: list[Any]
    request_ids: list[str]
    explanations: list[dict[str, Any]] | None = None
    warnings: list[FieldProblem] | None = Field(
        None, description="Inputs outside the range the model was trained on (deployment.out_of_range: flag)."
    )


class ExplainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]] = Field(
        description="Rows of column: value, as for /predict.", json_schema_extra={"minItems": 1}
    )


class FeedbackEntry(BaseModel):
    model_config = ConfigDict(extra="allow")
    actual: Any = Field(description="What really happened (the target's value).")
    request_id: str | None = Field(None, description="The prediction's request id; or give the series keys and time.")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[FeedbackEntry] = Field(description="Actuals; an empty list stores nothing and says so.")


def rejected(error: RequestRejected) -> JSONResponse:
    return JSONResponse({"detail": error.detail}, status_code=error.status)


@router.post(
    "/predict",
    response_model=PredictResponse,
    response_model_exclude_none=True,
    dependencies=[Depends(require("predict")), Depends(in_service)],
    responses=responses(400, 408, 410, 413, 415, 422, 503),
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
        "warnings": result.warnings or None,
    }


@router.post(
    "/explain",
    dependencies=[Depends(require("predict")), Depends(in_service)],
    responses=responses(400, 408, 410, 413, 415, 422, 503),
)
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


@router.post(
    "/feedback", dependencies=[Depends(require("feedback"))], responses=responses(400, 404, 408, 413, 415, 422, 503)
)
async def feedback(body: FeedbackRequest, serving: Serving = Depends(get_serving)) -> Any:
    entries = [(entry.actual, entry.request_id, entry.model_extra or {}) for entry in body.items]
    items, problems = series.feedback_items(serving.ws.spec, entries)
    if problems:
        return JSONResponse({"detail": [dataclasses.asdict(p) for p in problems]}, status_code=422)
    try:
        unknown = await asyncio.to_thread(serving.store.feedback.add, items)
    except Exception as exc:  # whatever the driver raised: nothing was stored, and the client is told so
        raise unavailable(f"the feedback could not be stored ({type(exc).__name__}); nothing was stored") from None
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
    try:
        await asyncio.to_thread(serving.refresh_history)  # lag features see the new actuals from the next request
    except Exception as exc:  # stored, but not yet read back: the poller reads it on its next round
        serving.last_error = f"reading feedback back failed: {type(exc).__name__}"
    return {"stored": len(items)}
