"""Standard protocols, so existing clients work unchanged.

- ``POST /invocations`` — MLflow's scoring format: JSON with ``dataframe_split``,
  ``dataframe_records``, ``instances`` or ``inputs``, or a CSV body; answers ``{"predictions": …}``.
- Open Inference Protocol v2 (KServe, Triton): server and model metadata, health, and
  ``infer`` with one named tensor per input column — JSON data or the binary tensor data
  extension (``Inference-Header-Content-Length``), which ``tritonclient`` uses by default.
  Errors are 400 ``{"error": …}`` as the protocol says.
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from mlcycle._version import __version__
from mlcycle.deploy.bodies import BINARY, CSV, JSON, check_content_type, loads, media_type
from mlcycle.deploy.dependencies import get_log, get_metrics, get_serving, in_service, require
from mlcycle.deploy.metrics import ServiceMetrics
from mlcycle.deploy.predictlog import PredictionLog
from mlcycle.deploy.schemas import MlflowError, MlflowRefusal, OipError, OipRefusal, responses
from mlcycle.deploy.scoring import ascore
from mlcycle.deploy.serving import Serving
from mlcycle.exceptions import RequestRejected

router = APIRouter()

# schema type → Open Inference Protocol datatype
OIP_TYPES = {"integer": "INT64", "number": "FP64", "boolean": "BOOL", "string": "BYTES", "datetime": "BYTES"}
NUMPY = {
    "BOOL": "?",
    "UINT8": "<u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "INT8": "<i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
}


# ── MLflow scoring format ────────────────────────────────────────────────────────────
def mlflow_rows(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """Rows from any request body MLflow's scoring server accepts; a body of another shape is 400 saying why."""
    if content_type.startswith("text/csv"):
        try:
            frame = pd.read_csv(io.BytesIO(body))
        except Exception as exc:  # pandas raises many kinds for a malformed CSV; each is the client's
            raise RequestRejected(400, f"the CSV body could not be read: {exc}") from None
        return _records(frame)
    payload = loads(body)
    try:
        return _mlflow_payload(payload)
    except (TypeError, ValueError) as exc:  # a field of the wrong kind deep inside (columns not a list …)
        raise RequestRejected(400, f"the body is not in MLflow's scoring format: {exc}") from None


def _mlflow_payload(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        raise RequestRejected(
            400,
            "the body must be a JSON object with one of dataframe_split, dataframe_records, instances, inputs",
        )
    keys = [k for k in ("dataframe_split", "dataframe_records", "instances", "inputs") if k in payload]
    if len(keys) != 1:
        raise RequestRejected(
            400,
            "give exactly one of dataframe_split, dataframe_records, instances, inputs "
            f"(MLflow's scoring format); got {', '.join(payload) or 'none'}",
        )
    data = payload[keys[0]]
    if keys[0] == "dataframe_split":
        if not isinstance(data, dict) or "columns" not in data or "data" not in data:
            raise RequestRejected(400, 'dataframe_split needs {"columns": [...], "data": [[...], ...]}')
        rows, columns = data["data"], data["columns"]
        if not isinstance(columns, list) or any(not isinstance(c, str) for c in columns):
            raise RequestRejected(400, "dataframe_split.columns must be a list of column names (text)")
        if not isinstance(rows, list) or any(not isinstance(r, list) or len(r) != len(columns) for r in rows):
            raise RequestRejected(400, f"dataframe_split.data must be rows of {len(columns)} values")
        return [dict(zip(columns, row)) for row in rows]
    if isinstance(data, dict):  # {"inputs": {"col": [v, v]}} — columns of values
        if not data:
            raise RequestRejected(400, f"{keys[0]} holds no columns: send at least one column of values")
        lengths = {len(v) if isinstance(v, list) else 1 for v in data.values()}
        if len(lengths) > 1:
            raise RequestRejected(400, f"{keys[0]} as columns needs lists of one length")
        n = lengths.pop()
        return [{k: (v[i] if isinstance(v, list) else v) for k, v in data.items()} for i in range(n)]
    if not isinstance(data, list) or any(not isinstance(r, dict) for r in data):
        raise RequestRejected(400, f"{keys[0]} must be a list of records ({{column: value}}) or an object of columns")
    return data


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


@router.post(
    "/invocations",
    dependencies=[Depends(require("predict")), Depends(in_service)],
    responses={
        **responses(408, 410),
        **responses(400, 422, model=MlflowError, keyed=False),
        **responses(413, 415, 503, model=MlflowRefusal, keyed=False),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/MlflowScoringRequest"}},
                "text/csv": {"schema": {"type": "string", "minLength": 1}},
            },
        }
    },
)
async def invocations(
    request: Request, serving: Serving = Depends(get_serving), log: PredictionLog = Depends(get_log)
) -> Any:
    body = await request.body()
    try:
        check_content_type(request, JSON + CSV, missing_ok=True)
        rows = mlflow_rows(body, media_type(request))
        result = await ascore(serving, rows)
        await log.awrite(result.records)
    except RequestRejected as error:
        if error.status != 422:
            return JSONResponse(
                {"error_code": "BAD_REQUEST", "message": str(error)}, status_code=error.status, headers=error.headers
            )
        return JSONResponse(
            {"error_code": "INVALID_PARAMETER_VALUE", "message": _first(error), "detail": error.detail},
            status_code=error.status,
        )
    return JSONResponse({"predictions": result.outputs})  # plain floats and labels: no encoder pass needed


def _first(error: RequestRejected) -> str:
    first = error.detail[0]
    where = f"row {first['row']}, {first['field']}: " if first.get("field") else ""
    more = f" (and {len(error.detail) - 1} more)" if len(error.detail) > 1 else ""
    return f"{where}{first['message']}{more}"


# ── Open Inference Protocol v2 ───────────────────────────────────────────────────────
class OipReady(BaseModel):
    ready: bool
    reason: str | None = None


OIP_MODEL = {**responses(404, model=OipError), **responses(503, model=OipRefusal, keyed=False)}
OIP_INFER = {
    **responses(408, 410),
    **responses(400, 404, model=OipError, keyed=False),
    **responses(413, 415, 503, model=OipRefusal, keyed=False),
}
OIP_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/OipInferenceRequest"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _oip_error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


@router.get("/v2", dependencies=[Depends(require("predict"))], responses=responses())
def server_metadata() -> Any:
    return {"name": "mlcycle", "version": __version__, "extensions": ["binary_tensor_data"]}


@router.get("/v2/health/live")
def live() -> Any:
    return {"live": True}


@router.get("/v2/health/ready", responses={503: {"model": OipReady, "description": "Not ready, or retired."}})
def ready(serving: Serving = Depends(get_serving)) -> Any:
    if not serving.ready:
        return JSONResponse({"ready": False}, status_code=503)
    if serving.retired is not None:
        return JSONResponse({"ready": False, "reason": f"retired: {serving.retired.get('reason')}"}, status_code=503)
    return {"ready": True}


def _check_model(serving: Serving, name: str, version: str | None) -> JSONResponse | None:
    if name != serving.ws.name:
        return _oip_error(f"unknown model {name!r}; this server serves {serving.ws.name!r}", 404)
    if serving.current is None:
        return _oip_error("no model is loaded yet", 503)
    if version is not None and version != serving.current.version:
        return _oip_error(f"version {version} is not being served; version {serving.current.version} is", 404)
    return None


def _metadata(serving: Serving) -> dict[str, Any]:
    loaded = serving.current
    assert loaded is not None
    inputs = [
        {"name": c, "datatype": OIP_TYPES[loaded.schema.columns[c].type], "shape": [-1]}
        for c in loaded.model.input_columns
    ]
    output_type = "FP64" if loaded.model.task == "regression" else "BYTES"
    return {
        "name": serving.ws.name,
        "versions": [loaded.version],
        "platform": "mlcycle",
        "inputs": inputs,
        "outputs": [{"name": "prediction", "datatype": output_type, "shape": [-1]}],
    }


@router.get("/v2/models/{name}", dependencies=[Depends(require("predict"))], responses=OIP_MODEL)
@router.get("/v2/models/{name}/versions/{version}", dependencies=[Depends(require("predict"))], responses=OIP_MODEL)
def model_metadata(name: str, version: str | None = None, serving: Serving = Depends(get_serving)) -> Any:
    return _check_model(serving, name, version) or _metadata(serving)


@router.get("/v2/models/{name}/ready", responses=responses(404, 503, model=OipError, keyed=False))
@router.get("/v2/models/{name}/versions/{version}/ready", responses=responses(404, 503, model=OipError, keyed=False))
def model_ready(name: str, version: str | None = None, serving: Serving = Depends(get_serving)) -> Any:
    return _check_model(serving, name, version) or {"name": name, "ready": True}


def _decode_tensor(tensor: dict[str, Any], binary: bytes | None) -> list[Any]:
    datatype = tensor.get("datatype")
    name = tensor.get("name")
    if binary is not None:
        if datatype == "BYTES":
            values, offset = [], 0
            while offset < len(binary):
                (length,) = struct.unpack_from("<I", binary, offset)
                values.append(binary[offset + 4 : offset + 4 + length].decode("utf-8"))
                offset += 4 + length
            return values
        if datatype not in NUMPY:
            raise RequestRejected(400, f"input {name!r}: unsupported datatype {datatype!r}")
        return np.frombuffer(binary, dtype=NUMPY[datatype]).tolist()
    data = tensor.get("data")
    if data is None:
        raise RequestRejected(400, f"input {name!r} has neither data nor binary_data_size")
    flat = np.asarray(data, dtype=object).ravel().tolist()
    if datatype == "BYTES":
        return [v.decode("utf-8") if isinstance(v, bytes) else v for v in flat]
    return flat


def _parse_infer(body: bytes, header_length: str | None) -> tuple[dict[str, Any], list[list[Any]]]:
    """The request's JSON header and one list of values per input tensor; anything malformed is 400 saying what."""
    if header_length is not None:
        if not header_length.isdigit() or int(header_length) > len(body):
            raise RequestRejected(
                400, f"Inference-Header-Content-Length must be a byte count within the body ({len(body)} bytes)"
            )
        cut = int(header_length)
        header, rest = loads(body[:cut]), body[cut:]
    else:
        header, rest = loads(body), b""
    try:
        return header, _tensors(header, rest)
    except (TypeError, ValueError, OverflowError, AttributeError, struct.error) as exc:  # UnicodeDecodeError too
        raise RequestRejected(400, f"the inference request's tensors cannot be read: {exc}") from None


def _tensors(header: Any, rest: bytes) -> list[list[Any]]:
    if not isinstance(header, dict) or not isinstance(header.get("inputs"), list) or not header["inputs"]:
        raise RequestRejected(400, 'an inference request needs "inputs": a list of named tensors, one per column')
    outputs = header.get("outputs", [])
    if not isinstance(outputs, list) or any(not isinstance(o, dict) for o in outputs):
        raise RequestRejected(400, '"outputs", when given, must be a list of objects such as {"name": "prediction"}')
    for part in [header, *header["inputs"], *outputs]:
        if isinstance(part, dict) and not isinstance(part.get("parameters", {}), dict | None):
            raise RequestRejected(400, '"parameters" must be an object of name: value')
    columns, offset = [], 0
    for tensor in header["inputs"]:
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise RequestRejected(400, "every input tensor needs a name, as text: the column it carries")
        size = (tensor.get("parameters") or {}).get("binary_data_size")
        binary = None
        if size is not None:
            binary = rest[offset : offset + int(size)]
            if len(binary) != int(size):
                raise RequestRejected(
                    400, f"input {tensor['name']!r}: the body ends before its {size} bytes of binary data"
                )
            offset += int(size)
        columns.append(_decode_tensor(tensor, binary))
    lengths = {len(c) for c in columns}
    if len(lengths) != 1:
        raise RequestRejected(400, "every input tensor must hold the same number of values (one per row)")
    return columns


@router.post(
    "/v2/models/{name}/infer",
    dependencies=[Depends(require("predict")), Depends(in_service)],
    responses=OIP_INFER,
    openapi_extra=OIP_BODY,
)
@router.post(
    "/v2/models/{name}/versions/{version}/infer",
    dependencies=[Depends(require("predict")), Depends(in_service)],
    responses=OIP_INFER,
    openapi_extra=OIP_BODY,
)
async def infer(
    name: str,
    request: Request,
    version: str | None = None,
    serving: Serving = Depends(get_serving),
    log: PredictionLog = Depends(get_log),
    metrics: ServiceMetrics = Depends(get_metrics),
) -> Any:
    problem = _check_model(serving, name, version)
    if problem is not None:
        return problem
    body = await request.body()
    try:
        check_content_type(request, JSON + BINARY, missing_ok=True)
        header, columns = _parse_infer(body, request.headers.get("inference-header-content-length"))
        names = [t["name"] for t in header["inputs"]]
        rows = [dict(zip(names, values)) for values in zip(*columns)]
        result = await ascore(serving, rows)
        await log.awrite(result.records)
    except RequestRejected as error:
        return JSONResponse(
            {"error": _first(error)},
            status_code=400 if error.status in (400, 422) else error.status,
            headers=error.headers,
        )
    for value in result.values:
        metrics.predictions.observe(float(value))
    return _infer_response(serving, header, result.outputs, result.version)


def _infer_response(serving: Serving, header: dict[str, Any], outputs: list[Any], version: str) -> Response:
    regression = serving.current is not None and serving.current.model.task == "regression"
    datatype = "FP64" if regression else "BYTES"
    wanted = header.get("outputs") or []
    binary = bool((header.get("parameters") or {}).get("binary_data_output"))
    for requested in wanted:
        if requested.get("name") == "prediction" and "binary_data" in (requested.get("parameters") or {}):
            binary = bool(requested["parameters"]["binary_data"])
    tensor: dict[str, Any] = {"name": "prediction", "datatype": datatype, "shape": [len(outputs)]}
    response: dict[str, Any] = {"model_name": serving.ws.name, "model_version": version, "outputs": [tensor]}
    if "id" in header:
        response["id"] = header["id"]
    if not binary:
        tensor["data"] = outputs if regression else [str(o) for o in outputs]
        return JSONResponse(response)
    if regression:
        payload = np.asarray(outputs, dtype="<f8").tobytes()
    else:
        payload = b"".join(struct.pack("<I", len(b)) + b for b in (str(o).encode() for o in outputs))
    tensor["parameters"] = {"binary_data_size": len(payload)}
    head = json.dumps(response).encode()
    return Response(
        head + payload,
        media_type="application/octet-stream",
        headers={"Inference-Header-Content-Length": str(len(head))},
    )
