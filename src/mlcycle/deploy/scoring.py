"""Scoring rows the same way everywhere: /predict, /invocations, the Open Inference Protocol and batch.

Validate against the served model's input schema → refuse rows whose lags have no history →
predict → explain when asked → build the audit records the prediction log writes before any
response is sent. Bad input raises :class:`RequestRejected` with the status and one entry per bad
row and field; nothing here answers 500 for bad input.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcycle.data.schema import frame_out_of_range, out_of_range, validate_frame, validate_records
from mlcycle.deploy import series
from mlcycle.deploy.predictlog import PredictionRecord
from mlcycle.deploy.serving import Loaded, Serving
from mlcycle.exceptions import DataError, RequestRejected
from mlcycle.explain import reasons, sentence
from mlcycle.metrics import decision
from mlcycle.store import LOGGED_COLUMNS, utcnow


@dataclass
class Result:
    outputs: list[Any]
    values: np.ndarray
    request_ids: list[str]
    records: list[PredictionRecord]
    version: str
    explanations: list[dict[str, Any]] | None = None
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # {row, field, message}: flagged, not refused
    table: pd.DataFrame | None = None  # a batch's audit log as columns (score_frame), in place of records


INLINE_ROWS = 64  # the lean path scores this many rows in well under a millisecond: not worth a thread hop


async def ascore(serving: Serving, rows: list[dict[str, Any]], *, explain: bool = False) -> Result:
    """:func:`score` for a request handler: the lean path on a small request runs inline; explanations (tens of
    milliseconds a row), the Pipeline path and large requests run in a worker thread, so the event loop keeps
    answering health checks and other requests meanwhile."""
    loaded = serving.current
    if loaded is not None and loaded.fast is not None and not explain and len(rows) <= INLINE_ROWS:
        return score(serving, rows)
    return await asyncio.to_thread(score, serving, rows, explain=explain)


def _loaded(serving: Serving, n: int, max_rows: int | None) -> Loaded:
    """The model to score ``n`` rows with, or the refusal: none loaded (503), too many rows (413), none (422)."""
    loaded = serving.current
    if loaded is None:
        raise RequestRejected(503, serving.last_error or "no model is loaded yet")
    limit = max_rows if max_rows is not None else serving.ws.spec.deployment.max_batch_rows
    if n > limit:
        raise RequestRejected(413, f"{n} rows is more than deployment.max_batch_rows = {limit}; send smaller batches")
    if not n:
        raise RequestRejected(422, "no rows to score: send at least one record")
    return loaded


def score(
    serving: Serving,
    rows: list[dict[str, Any]],
    *,
    explain: bool = False,
    source: str = "online",
    max_rows: int | None = None,
) -> Result:
    """Score request rows: the verified lean path when it can, else the Pipeline; refusals as RequestRejected."""
    started = time.perf_counter()
    loaded = _loaded(serving, len(rows), max_rows)
    model = loaded.model
    asked, explain = explain, explain or _reasons_kept(serving)
    lean = loaded.fast is not None and not explain
    frame, errors = validate_records(loaded.schema, rows, model.input_columns, build=not lean)
    if errors:
        raise RequestRejected(422, errors)
    warnings = _in_range(serving, out_of_range(loaded.schema, rows, model.input_columns))
    built = None
    with _unscorable(warnings):
        if lean:
            assert loaded.fast is not None
            values, lacking_rows = loaded.fast.predict(rows, loaded.history)
            if lacking_rows.any():
                frame, _ = validate_records(loaded.schema, rows, model.input_columns)
                raise RequestRejected(422, [_no_history(serving, frame, int(i)) for i in np.flatnonzero(lacking_rows)])
        else:
            built, values = _pipeline(serving, loaded, frame)
    result = _result(serving, loaded, rows, frame, built, values, explain=explain, source=source, started=started)
    return _flagged(result if asked else _unasked(result), warnings)


def _reasons_kept(serving: Serving) -> bool:
    """Whether every decision is explained for the audit log (``compliance.reasons_per_decision``)."""
    return serving.ws.spec.requirements.compliance.reasons_per_decision


def _unasked(result: Result) -> Result:
    """The explanations made only for the audit log stay in its records, out of the answer nobody asked for."""
    return dataclasses.replace(result, explanations=None)


def score_frame(
    serving: Serving,
    table: pd.DataFrame,
    *,
    explain: bool = False,
    source: str = "batch",
    max_rows: int | None = None,
) -> Result:
    """Score the rows of a table (batch): validated column by column and built as one frame; a record per row
    is made only for the audit log. Refusals name the row's position in ``table``, as :func:`score` does."""
    started = time.perf_counter()
    asked, explain = explain, explain or _reasons_kept(serving)
    loaded = _loaded(serving, len(table), max_rows)
    frame, errors = validate_frame(loaded.schema, table, loaded.model.input_columns)
    if errors:
        raise RequestRejected(422, errors)
    warnings = _in_range(serving, frame_out_of_range(loaded.schema, frame, loaded.model.input_columns))
    with _unscorable(warnings):
        built, values = _pipeline(serving, loaded, frame)
    result = _logged_table(
        serving, loaded, table, frame, built, values, warnings, explain=explain, source=source, started=started
    )
    return result if asked else _unasked(result)


def _logged_table(
    serving: Serving,
    loaded: Loaded,
    table: pd.DataFrame,
    frame: pd.DataFrame,
    built: pd.DataFrame,
    values: np.ndarray,
    warnings: list[dict[str, Any]],
    *,
    explain: bool,
    source: str,
    started: float,
) -> Result:
    """A batch's decisions, explanations and audit log as columns (``Result.table``, what
    :meth:`~mlcycle.store.PredictionLog.log_table` writes): the same values :func:`_result` puts in its
    records, without an object per row — at ten million rows those objects cost more than the model."""
    model = loaded.model
    design = serving.ws.spec
    if model.task == "classification":
        outputs: list[Any] = decision.labels(values, model.threshold, model.labels)
    else:
        outputs = values.astype(float).tolist()
    explanations = explain_rows(serving, loaded, frame, built, values, outputs) if explain else None
    protected = design.requirements.compliance.protected
    kept = [*model.input_columns, *[c for c in protected if c not in model.input_columns]]
    documents = json_documents(table[[c for c in kept if c in table.columns]])
    by_row: dict[int, list[dict[str, Any]]] = {}
    for w in warnings:
        by_row.setdefault(w["row"], []).append({"field": w["field"], "message": w["message"]})
    n = len(table)
    ids = request_ids(n)
    time_column = design.time_column
    texts = {  # as Python objects: pandas would make each a column of Arrow text, which the log turns back
        "request_id": ids,
        "model_name": [design.name] * n,
        "model_version": [loaded.version] * n,
        "source": [source] * n,
        "series_key": series.series_keys(design, table),
        "inputs": documents,
        "output_label": [None] * n if model.task == "regression" else [str(o) for o in outputs],
        "explanation": [json.dumps(e, default=str) for e in explanations] if explanations else [None] * n,
        "warnings": [json.dumps(by_row[i]) if i in by_row else None for i in range(n)] if by_row else [None] * n,
    }
    logged = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in texts.items()})
    logged["created_at"] = utcnow()
    logged["event_time"] = (
        series.step_series(design, table[time_column]).to_numpy()
        if time_column and time_column in table.columns
        else None
    )
    logged["output"] = values.astype(float)
    logged = logged.reindex(columns=list(LOGGED_COLUMNS))  # in the log's order; latency_ms comes last, measured
    logged["latency_ms"] = (time.perf_counter() - started) * 1000 / n
    return Result(outputs, values, ids, [], loaded.version, explanations, frame, warnings, table=logged)


def score_chunk(
    serving: Serving, part: pd.DataFrame, chunk: int, *, explain: bool
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """One chunk scored: (the scored rows with their predictions, the rejected rows with a reason, the audit
    log's rows to write). Rows that fail validation are set aside with the reason and the rest scored."""
    bad: dict[int, str] = {}
    out = logged = None
    for _ in range(2):  # validate, drop the bad rows, score the rest
        keep = [i for i in range(len(part)) if i not in bad]
        if not keep:
            break
        table = part.iloc[keep].reset_index(drop=True) if bad else part
        try:
            result = score_frame(serving, table, explain=explain, source="batch", max_rows=chunk)
        except RequestRejected as error:
            if error.status != 422 or any(d.get("row") is None for d in error.detail):
                raise DataError(f"the batch cannot be scored: {error.detail[0]['message']}") from None
            for d in error.detail:
                original = keep[int(str(d["row"]))]
                bad[original] = "; ".join(filter(None, [bad.get(original), f"{d['field']}: {d['message']}"]))
            continue
        logged = result.table
        out = table.copy()
        out["prediction"] = result.outputs
        out["request_id"] = result.request_ids
        if explain and result.explanations:
            out["explanation"] = [e["sentence"] for e in result.explanations]
        break
    rejects = part.iloc[sorted(bad)].assign(reason=[bad[i] for i in sorted(bad)]) if bad else None
    return out, rejects, logged


def _in_range(serving: Serving, warnings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The out-of-range inputs to flag; raises the 422 instead when the design says ``out_of_range: refuse``."""
    if warnings and serving.ws.spec.deployment.out_of_range == "refuse":
        raise RequestRejected(422, _saying(warnings, "; deployment.out_of_range is refuse"))
    return warnings


@contextlib.contextmanager
def _unscorable(warnings: list[dict[str, Any]]) -> Iterator[None]:
    """An estimator that cannot take a value far out of range (1e308 overflows a tree's float32) is a 422 naming
    the values, never a 500. Without such values a failure is ours, and goes up as it is."""
    try:
        yield
    except (ValueError, OverflowError, FloatingPointError):
        if not warnings:
            raise
        raise RequestRejected(422, _saying(warnings, ": the model cannot score it")) from None


def _saying(warnings: list[dict[str, Any]], more: str) -> list[dict[str, Any]]:
    """The warnings as refusals, each message ending with why it is refused."""
    return [{**w, "message": w["message"] + more} for w in warnings]


def _flagged(result: Result, warnings: list[dict[str, Any]]) -> Result:
    """The result with each row's warnings in its audit record too."""
    if warnings:
        by_row: dict[int, list[dict[str, Any]]] = {}
        for w in warnings:
            by_row.setdefault(w["row"], []).append({"field": w["field"], "message": w["message"]})
        for i, record in enumerate(result.records):
            record.warnings = by_row.get(i)
        result.warnings = warnings
    return result


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as a JSON request would send them (times as ISO text, missing values as None)."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%S")
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in out.astype(object).to_dict("records")
    ]


def json_documents(frame: pd.DataFrame) -> list[str]:
    """Each row of a table as the JSON document :func:`json_rows` + ``json.dumps`` would make (times as ISO
    text, missing values as null), built column by column: numbers by their shortest round-trip text, text
    values encoded once per distinct value. Ten times faster than a dict and a ``dumps`` per row."""
    if frame.empty:
        return ["{}"] * len(frame)
    documents: Any = None
    for place, name in enumerate(frame.columns):
        column = frame[name]
        missing = column.isna().to_numpy()
        if pd.api.types.is_datetime64_any_dtype(column):
            text = column.dt.strftime('"%Y-%m-%dT%H:%M:%S"').to_numpy(dtype=object)
        elif pd.api.types.is_bool_dtype(column):
            text = np.where(column.to_numpy(dtype=bool, na_value=False), "true", "false").astype(object)
        elif pd.api.types.is_integer_dtype(column):
            text = column.astype(str).to_numpy(dtype=object)
        elif pd.api.types.is_float_dtype(column):
            numbers = column.to_numpy(dtype=float, na_value=np.nan)
            codes, uniques = pd.factorize(numbers, use_na_sentinel=True)  # prices repeat: each written once
            text = np.array([repr(v) for v in uniques.tolist()] + ["null"], dtype=object)[codes]  # as dumps does
            text[np.isposinf(numbers)], text[np.isneginf(numbers)] = "Infinity", "-Infinity"
            zero = numbers == 0  # 0.0 == -0.0 to a hash, not to dumps
            text[zero & np.signbit(numbers)], text[zero & ~np.signbit(numbers)] = "-0.0", "0.0"
        else:
            codes, uniques = pd.factorize(column, use_na_sentinel=True)
            encoded = np.array([json.dumps(v, default=str) for v in uniques.tolist()] + ["null"], dtype=object)
            text = encoded[codes]
        text[missing] = "null"
        head = ("{" if place == 0 else ", ") + json.dumps(str(name)) + ": "
        documents = head + text if documents is None else documents + (head + text)
    return (documents + "}").tolist()


def _pipeline(serving: Serving, loaded: Loaded, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Features built once (the history check, the prediction and the explanation share them), and values."""
    model = loaded.model
    built = model.features.transform(frame, loaded.history)
    if model.features.needs_history:
        lacking = np.flatnonzero(model.features.missing_history(frame, built))
        if len(lacking):
            raise RequestRejected(422, [_no_history(serving, frame, int(i)) for i in lacking])
    return built, model.predict_built(built)


def _result(
    serving: Serving,
    loaded: Loaded,
    rows: list[dict[str, Any]],
    frame: pd.DataFrame,
    built: pd.DataFrame | None,
    values: np.ndarray,
    *,
    explain: bool,
    source: str,
    started: float,
) -> Result:
    """Decisions, explanations and one audit record per row."""
    model = loaded.model
    if model.task == "classification":
        outputs: list[Any] = decision.labels(values, model.threshold, model.labels)
    else:
        outputs = [float(v) for v in values]
    explanations = None
    if explain:
        assert built is not None  # explaining always takes the Pipeline path
        explanations = explain_rows(serving, loaded, frame, built, values, outputs)
    elapsed = (time.perf_counter() - started) * 1000 / len(rows)
    design = serving.ws.spec
    # protected columns sent beside the inputs are kept on the record (never used by the model): monitoring
    # measures fairness per group from them
    kept = [c for c in design.requirements.compliance.protected if c not in model.input_columns]
    ids = request_ids(len(rows))
    now = utcnow()  # one instant for the request's rows
    keys = series.series_of_rows(design, rows)
    when = series.steps_of(design, rows)
    columns = model.input_columns
    numbers = values.astype(float).tolist()

    def inputs(row: dict[str, Any]) -> dict[str, Any]:
        found = {c: row.get(c) for c in columns}
        found.update((c, row[c]) for c in kept if c in row)
        return found

    records = [
        PredictionRecord(
            request_id=ids[i],
            model_name=design.name,
            model_version=loaded.version,
            inputs=inputs(row),
            output=numbers[i],
            output_label=None if model.task == "regression" else str(outputs[i]),
            explanation=explanations[i] if explanations else None,
            latency_ms=elapsed,
            source=source,
            series_key=keys[i],
            event_time=when[i],
            created_at=now,
        )
        for i, row in enumerate(rows)
    ]
    return Result(outputs, values, ids, records, loaded.version, explanations, frame)


def request_ids(n: int) -> list[str]:
    """``n`` fresh request ids of 32 hex digits, as UUIDv7 lays them out: the time in milliseconds first, then
    80 random bits (from one read of the OS's random source). Ids that grow with time are appended to the
    end of the log's unique index; random ones land all over it, and at a million logged rows a 1,000-row
    request rewrote a page of the index per row."""
    prefix = f"{time.time_ns() // 1_000_000:012x}"
    blob = os.urandom(10 * n).hex()
    return [prefix + blob[i : i + 20] for i in range(0, 20 * n, 20)]


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
    typical = model.meta.get("typical", {})
    positive_label = model.labels[1] if model.labels else None
    out = []
    for i in range(len(frame)):
        contributions = explanation.contributions.iloc[i]
        because: dict[str, Any] = {}
        if model.task == "classification":
            found, text = reasons(
                outputs[i],
                outputs[i] == positive_label,
                built.iloc[i],
                contributions,
                typical=typical,
                labels=design.labels,
                target=design.target,
                space=explanation.space,
                unit=design.time_unit,
            )
            because = {"reasons": found, "reason": text}
        out.append(
            {
                **because,
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
    at = pd.Timestamp(series.step_of(design, frame.iloc[i].to_dict()))
    when = at.date() if design.time_unit == "day" else f"{at:%Y-%m-%d %H:%M}"
    steps = serving.current.model.features.lookback if serving.current else 0
    return {
        "row": i,
        "field": design.time_column,
        "message": f"no history for {keys or 'the series'} in the {steps} {design.time_unit}s before {when}: the "
        f"model builds lag features from actuals — send them to /feedback first",
    }
