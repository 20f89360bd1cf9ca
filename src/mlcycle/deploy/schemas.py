"""The shapes of the service's refusals, declared in the OpenAPI description exactly as they are sent.

mlcycle's own routes refuse with :class:`Problems` — ``{"detail": [{row, field, message}, …]}``, or
``{"detail": "one message"}`` when the refusal is about the whole request (a key, a retirement).
The standard protocols keep their own shapes, so their clients read our errors as they read any
server's: MLflow's scoring format :class:`MlflowError`, the Open Inference Protocol :class:`OipError`.
``tests/deploy/test_fuzz.py`` holds every answer to the declared shapes (schemathesis).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, RootModel


class FieldProblem(BaseModel):
    row: int | None = Field(description="The record's position in the request (0-based), or null for the whole body.")
    field: str | None = Field(description="The column or body field at fault, or null.")
    message: str = Field(description="What is wrong and what would be valid.")


class Problems(BaseModel):
    detail: list[FieldProblem] | str


class MlflowError(BaseModel):
    error_code: str = Field(description="BAD_REQUEST or INVALID_PARAMETER_VALUE, as MLflow's scoring server says.")
    message: str
    detail: list[FieldProblem] | None = None


class OipError(BaseModel):
    error: str


class MlflowRefusal(RootModel[MlflowError | Problems]):
    """A refusal on /invocations: MLflow's shape from the route itself, ours from what runs before it — the
    key check (503 while the store cannot be read) and the body guard (413, 415)."""


class OipRefusal(RootModel[OipError | Problems]):
    """A refusal on the Open Inference Protocol's routes: the protocol's shape, or ours from what runs before."""


WHY = {
    400: "The body cannot be read (not JSON, not UTF-8, a key twice, too deeply nested, wrong shape).",
    401: "An API key is required, or the key is unknown or revoked.",
    403: "The key's scope does not allow this route.",
    404: "No such model, version or request id.",
    408: "The body did not arrive in time.",
    409: "The new champion was refused; the old one keeps serving.",
    410: "The use case is retired.",
    413: "Too many rows (deployment.max_batch_rows) or too large a body (deployment.max_body_mb).",
    415: "Content-Type or Content-Encoding not accepted.",
    422: "A field is missing or of the wrong type, a value is unknown or out of range, or a lag has no history.",
    429: "Too many failed API keys from this client; wait Retry-After seconds.",
    503: "No model is loaded yet, or the audit log cannot be written (Retry-After).",
}

KEYED = (401, 403, 429, 503)  # what the key check, before any keyed route, can answer


def responses(*codes: int, model: type[BaseModel] = Problems, keyed: bool = True) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each refusal it can send, with its body's shape. Refusals of the key check
    (401, 403, 429, and 503 while the store cannot be read) are :class:`Problems`, unless ``codes`` says
    otherwise. Combine calls with ``keyed=False`` after the first, so a later call cannot undo an earlier one."""
    out: dict[int | str, dict[str, Any]] = {}
    if keyed:
        out.update({code: {"model": Problems, "description": WHY[code]} for code in KEYED})
    out.update({code: {"model": model, "description": WHY[code]} for code in codes})
    return out
