"""Scoring rows the same way everywhere: /predict, /invocations, the Open Inference Protocol and batch.

Validate against the served model's input schema → refuse rows whose lags have no history →
predict → explain when asked → build the audit records the prediction log writes before any
response is sent. Bad input raises :class:`RequestRejected` with the status and one entry per bad
row and field; nothing here answers 500 for bad input.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcycle.data.schema import validate_records
from mlcycle.deploy import series
from mlcycle.deploy.predictlog import PredictionRecord
from mlcycle.deploy.serving import Loaded, Serving
from mlcycle.exceptions import RequestRejected
from mlcycle.explain import sentence
from mlcycle.metrics import decision


@dataclass
class Result:
    outputs: list[Any]
    values: np.ndarray
    request_ids: list[str]
    records: list[PredictionRecord]
    version: str
    explanations: list[dict[str, Any]] | None = None
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)


INLINE_ROWS = 64  # the lean path scores this many rows in well under a millisecond: not worth a thread hop


async def ascore(serving: Serving, rows: list[dict[str, Any]], *, explain: bool = False) -> Result:
    """:func:`score` for a request handler: the lean path on a small request runs inline; explanations (tens of
    milliseconds a row), the Pipeline path and large requests run in a worker thread, so the event loop keeps
    answering health checks and other requests meanwhile."""
    loaded = serving.current
    if loaded is not None and loaded.fast is not None and not explain and len(rows) <= INLINE_ROWS:
        return score(serving, rows)
    return await asyncio.to_thread(score, serving, rows, explain=explain)


def score(
    serving: Serving,
    rows: list[dict[str, Any]],
    *,
    explain: bool = False,
    source: str = "online",
    max_rows: int | None = None,
) -> Result:
    started = time.perf_counter()
    loaded = serving.current
    if loaded is None:
        raise RequestRejected(503, serving.last_error or "no model is loaded yet")
    limit = max_rows if max_rows is not None else serving.ws.spec.deployment.max_batch_rows
    if len(rows) > limit:
        raise RequestRejected(
            413, f"{len(rows)} rows is more than deployment.max_batch_rows = {limit}; send smaller batches"
        )
    if not rows:
        raise RequestRejected(422, "no rows to score: send at least one record")
    model = loaded.model
    lean = loaded.fast is not None and not explain
    frame, errors = validate_records(loaded.schema, rows, model.input_columns, build=not lean)
    if errors:
        raise RequestRejected(422, errors)
    if lean:
        assert loaded.fast is not None
        values, lacking_rows = loaded.fast.predict(rows, loaded.history)
        if lacking_rows.any():
            frame, _ = validate_records(loaded.schema, rows, model.input_columns)
            raise RequestRejected(422, [_no_history(serving, frame, int(i)) for i in np.flatnonzero(lacking_rows)])
    else:
        built = model.features.transform(frame, loaded.history)  # once: history check, prediction, explanation
        if model.features.needs_history:
            lacking = np.flatnonzero(model.features.missing_history(frame, built))
            if len(lacking):
                raise RequestRejected(422, [_no_history(serving, frame, int(i)) for i in lacking])
        values = model.predict_built(built)
    if model.task == "classification":
        outputs: list[Any] = decision.labels(values, model.threshold, model.labels)
    else:
        outputs = [float(v) for v in values]
    explanations = explain_rows(serving, loaded, frame, built, values, outputs) if explain else None
    elapsed = (time.perf_counter() - started) * 1000 / len(rows)
    ids = [uuid.uuid4().hex for _ in rows]
    records = []
    for i, row in enumerate(rows):
        kept = {c: row.get(c) for c in model.input_columns}
        records.append(
            PredictionRecord(
                request_id=ids[i],
                model_name=serving.ws.name,
                model_version=loaded.version,
                inputs=kept,
                output=float(values[i]),
                output_label=None if model.task == "regression" else str(outputs[i]),
                explanation=explanations[i] if explanations else None,
                latency_ms=elapsed,
                source=source,
                series_key=series.series_of(serving.ws.spec, row),
                event_time=series.step_of(serving.ws.spec, row),
            )
        )
    return Result(outputs, values, ids, records, loaded.version, explanations, frame)


def explain_rows(
    serving: Serving,
    loaded: Loaded,
    frame: pd.DataFrame,
    built: pd.DataFrame,
    values: np.ndarray,
    outputs: list[Any],
) -> list[dict[str, Any]]:
    model = loaded.model
    if model.explainer is None:
        raise RequestRejected(422, "this model version was promoted without an explainer")
    explanation = model.explainer.explain(frame, built)
    design = serving.ws.spec
    out = []
    for i in range(len(frame)):
        contributions = explanation.contributions.iloc[i]
        out.append(
            {
                "prediction": outputs[i],
                "base": float(explanation.base[i]),
                "space": explanation.space,
                **({"probability": float(values[i])} if model.task == "classification" else {}),
                "contributions": {k: float(v) for k, v in contributions.items()},
                "sentence": sentence(
                    outputs[i] if model.task == "classification" else values[i],
                    built.iloc[i],
                    contributions,
                    labels=design.labels,
                    target=design.target,
                    task=model.task,
                    space=explanation.space,
                    probability=float(values[i]) if model.task == "classification" else None,
                    unit=design.time_unit,
                    threshold=model.threshold,
                ),
            }
        )
    return out


def _no_history(serving: Serving, frame: pd.DataFrame, i: int) -> dict[str, Any]:
    design = serving.ws.spec
    keys = ", ".join(f"{g} {frame.iloc[i][g]}" for g in design.group_columns)
    at = pd.Timestamp(frame.iloc[i][design.time_column]).floor(design.time_step)
    when = at.date() if design.time_unit == "day" else f"{at:%Y-%m-%d %H:%M}"
    steps = serving.current.model.features.lookback if serving.current else 0
    return {
        "row": i,
        "field": design.time_column,
        "message": f"no history for {keys or 'the series'} in the {steps} {design.time_unit}s before {when}: the "
        f"model builds lag features from actuals — send them to /feedback first",
    }
