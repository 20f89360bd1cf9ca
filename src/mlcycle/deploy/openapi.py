"""The service's OpenAPI description, written from the model it serves, so that it tells the truth.

FastAPI describes a record as "any object". That is true of what the route's type accepts but not of
what the service takes: it wants the served model's input columns, each of its type, a category
from the ones it knows. So the description is completed from the model's input schema — the
columns, their types, their categories, whether they may be null — and the model's name and
version are the only values the Open Inference Protocol's path accepts. A client generator (or a
property-based tester such as schemathesis) then sends rows the model can score, and every
refusal the service can send is declared with its body (see :mod:`mlcycle.deploy.schemas`).

The description changes with the champion; it is rebuilt when the served version changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.openapi.utils import get_openapi

from mlcycle.data.schema import FIRST_YEAR, LAST_YEAR

if TYPE_CHECKING:
    from fastapi import FastAPI

    from mlcycle.data.schema import ColumnSchema, Schema
    from mlcycle.deploy.serving import Serving

RECORD = {"$ref": "#/components/schemas/Record"}
YEARS = "^(16(7[89]|[89][0-9])|1[7-9][0-9]{2}|20[0-9]{2}|21[0-9]{2}|22[0-5][0-9]|226[01])-"  # FIRST_YEAR…LAST_YEAR
OIP_DATATYPES = ["BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FP16", "FP32"]
OIP_DATATYPES += ["FP64", "BYTES"]


def describe(app: FastAPI, serving: Serving) -> dict[str, Any]:
    """The OpenAPI document of ``app`` for the model ``serving`` serves now (remembered per served version)."""
    loaded = serving.current
    version = loaded.version if loaded else None
    cached = getattr(app.state, "openapi", None)
    if cached is not None and cached[0] == version:
        return dict(cached[1])
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes, servers=app.servers
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Record"] = record_schema(loaded.schema, loaded.model.input_columns) if loaded else {"type": "object"}
    for name in ("PredictRequest", "ExplainRequest"):
        if name in schemas:
            schemas[name]["properties"]["records"]["items"] = RECORD
    columns = loaded.model.input_columns if loaded else []
    schemas["MlflowScoringRequest"] = mlflow_request(columns)
    schemas["OipInferenceRequest"] = oip_request(columns)
    for item in doc["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "name":
                    parameter["schema"] = {"type": "string", "enum": [serving.ws.name]}
                elif parameter["in"] == "path" and parameter["name"] == "version" and version is not None:
                    parameter["schema"] = {"type": "string", "enum": [version]}
    app.state.openapi = (version, doc)
    return dict(doc)


def record_schema(schema: Schema, columns: list[str]) -> dict[str, Any]:
    """One request row as JSON Schema: each input column of its type, required; other columns are ignored."""
    return {
        "type": "object",
        "properties": {c: column_schema(schema.columns[c]) for c in columns},
        "required": list(columns),
        "additionalProperties": True,
        "description": "One row: the model's input columns (others are accepted and ignored).",
    }


def column_schema(column: ColumnSchema) -> dict[str, Any]:
    """One input column as JSON Schema, as the service's validation takes it (``data.schema``). A text column
    takes an integer too, read as its text (stock code 85123 is "85123"): so a known category that is an
    integer's text may come as that integer."""
    if column.type == "string" and column.categories is not None:
        texts = [str(c) for c in column.categories]
        out: dict[str, Any] = {"enum": texts + [int(t) for t in texts if _integer_text(t)]}
    elif column.type == "string":
        out = {"type": ["string", "integer"]}
    elif column.type == "datetime":
        out = {
            "type": "string",
            "format": "date-time",
            "pattern": YEARS,
            "description": f"ISO 8601, e.g. 2011-09-01; a year from {FIRST_YEAR} to {LAST_YEAR}",
        }
    else:
        out = {"type": "boolean" if column.type == "boolean" else "number"}
    if column.nullable:
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _integer_text(text: str) -> bool:
    """Whether ``text`` is what ``str`` writes for some integer ("85123", "-4"; not "007" or "1.0")."""
    try:
        return str(int(text)) == text
    except ValueError:
        return False


def mlflow_request(columns: list[str]) -> dict[str, Any]:
    """MLflow's scoring format: exactly one of its four ways to send rows."""
    rows = {"type": "array", "items": RECORD, "minItems": 1}
    split = {
        "type": "object",
        "properties": {
            "columns": {
                "type": "array",
                "items": {"type": "string", "enum": columns} if columns else {"type": "string"},
            },
            "data": {"type": "array", "items": {"type": "array"}, "minItems": 1},
        },
        "required": ["columns", "data"],
    }
    return {
        "oneOf": [
            {"type": "object", "properties": {"dataframe_split": split}, "required": ["dataframe_split"]},
            {"type": "object", "properties": {"dataframe_records": rows}, "required": ["dataframe_records"]},
            {"type": "object", "properties": {"instances": rows}, "required": ["instances"]},
            {"type": "object", "properties": {"inputs": rows}, "required": ["inputs"]},
        ]
    }


def oip_request(columns: list[str]) -> dict[str, Any]:
    """The Open Inference Protocol's inference request: one named tensor per input column."""
    tensor = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "enum": columns} if columns else {"type": "string"},
            "datatype": {"type": "string", "enum": OIP_DATATYPES},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "data": {"type": "array", "minItems": 1},
            "parameters": {"type": "object"},
        },
        "required": ["name", "datatype", "shape"],
    }
    output = {"type": "object", "properties": {"name": {"type": "string"}, "parameters": {"type": "object"}}}
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "inputs": {"type": "array", "items": tensor, "minItems": 1},
            "outputs": {"type": "array", "items": output},
            "parameters": {"type": "object"},
        },
        "required": ["inputs"],
    }
