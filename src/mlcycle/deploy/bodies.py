"""Request bodies read the way a hostile client cannot break: every malformed body is a 4xx naming the problem.

What a body may be, before any route sees it:

- **Size and pace** (:class:`BodyGuard`, ASGI middleware): at most ``deployment.max_body_mb``,
  counted as it arrives — a chunked body without ``Content-Length`` is held to the same limit
  (413) — and read whole within ``deployment.max_body_seconds`` (408), so a client trickling a byte a second
  cannot hold a worker.
- **Encoding**: only identity; a compressed body (``Content-Encoding: gzip``…) is 415, so no
  decompression bomb can be sent.
- **Content type**: each route lists what it reads (JSON, CSV, binary tensors); another is 415.
- **JSON** (:func:`loads`): valid UTF-8 (400 otherwise), no key twice in one object (400:
  ``{"price": 1, "price": 1e308}`` is ambiguous, and parsers disagree which wins), no nesting
  deeper than the parser's recursion limit (400: a 10,000-deep array is refused, not a 500).
  ``NaN`` and ``Infinity`` parse, and the schema refuses them per field.

:class:`GuardedRoute` puts the content-type check and :func:`loads` in front of FastAPI's own
body parsing for the routes that declare a Pydantic body (``/predict``, ``/explain``, ``/feedback``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from mlcycle.exceptions import RequestRejected

BODY_SECONDS = 30.0  # the default of deployment.max_body_seconds

JSON = ("application/json",)
CSV = ("text/csv",)
BINARY = ("application/octet-stream",)


def loads(body: bytes) -> Any:
    """Parse a JSON body or raise :class:`RequestRejected` (400) saying what is wrong with it."""
    if not body.strip():
        raise RequestRejected(400, "the body is empty; send a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestRejected(
            400, f"the body is not valid UTF-8 (byte {exc.start}): send JSON encoded as UTF-8"
        ) from None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:  # raised cleanly by the C parser, before the stack is at risk
        raise RequestRejected(400, "the JSON nests too deeply; our formats need four levels") from None
    except _DuplicateKey as exc:
        raise RequestRejected(400, f"the key {exc.key!r} appears twice in one JSON object; send it once") from None
    except json.JSONDecodeError as exc:
        raise RequestRejected(400, f"the body is not valid JSON: {exc}") from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def media_type(request: Request) -> str:
    """The request's media type without parameters (``application/json; charset=utf-8`` → ``application/json``)."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def check_content_type(request: Request, accepted: tuple[str, ...], *, missing_ok: bool = False) -> None:
    """415 unless the body's media type is one of ``accepted`` (a missing one too when ``missing_ok``)."""
    given = media_type(request)
    if given in accepted or (missing_ok and not given):
        return
    raise RequestRejected(
        415,
        f"Content-Type {given or '(none)'} is not accepted here; send {' or '.join(accepted)}",
    )


class GuardedRoute(APIRoute):
    """A route whose JSON body goes through :func:`loads` and whose content type must be JSON, after its key.

    FastAPI's own parser would answer a 10,000-deep array with a bare 400 and a ``text/plain`` body
    with a misleading 422; this says what is wrong. (FastAPI's documented way to customise the
    request a route reads: a custom ``APIRoute`` with its own ``get_route_handler``.)
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        scopes = [getattr(d.call, "scope", None) for d in self.dependant.dependencies]
        scope = next((s for s in scopes if s is not None), None)

        async def handler(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH"):
                try:
                    if scope is not None:  # the key first: a stranger learns nothing about what a body should be
                        request.app.state.auth.check(request, scope)
                        request.state.key_checked = scope
                    check_content_type(request, JSON)
                    request = _Parsed(request.scope, request.receive)
                    request._json = loads(await request.body())  # what FastAPI's parser then reads
                except RequestRejected as error:
                    return problem(error)
            return await original(request)

        return handler


class _Parsed(Request):
    """A request whose ``json()`` returns what :func:`loads` already parsed."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            raise RequestRejected(400, "the body was not read")  # never: GuardedRoute parses first
        return self._json


def problem(error: RequestRejected) -> JSONResponse:
    """The service's refusal body, with the error's headers: ``{"detail": [{row, field, message}, …]}``, or
    ``{"detail": "message"}`` when the refusal is about the whole request (a key, a body's size)."""
    return JSONResponse(
        {"detail": str(error) if error.plain else error.detail}, status_code=error.status, headers=error.headers
    )


class BodyGuard:
    """Pure ASGI middleware: refuses a body over ``max_body`` bytes (413), compressed (415) or too slow (408).

    The body is read here, whole, before the app runs, then handed on as one message: routes read it
    whole anyway, and only here can a slow or endless stream be cut off by time and size.
    (Starlette's BaseHTTPMiddleware would cost about a millisecond a request; this costs microseconds.)
    """

    def __init__(self, app: Any, max_body: int, limit_mb: float, seconds: float = BODY_SECONDS) -> None:
        self.app = app
        self.max_body = max_body
        self.limit_mb = limit_mb
        self.seconds = seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        encoding = headers.get(b"content-encoding", b"identity").decode("latin-1").strip().lower()
        if encoding not in ("", "identity"):
            await _refuse(
                scope, receive, send, 415, f"Content-Encoding {encoding} is not accepted; send the body uncompressed"
            )
            return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            await _refuse(scope, receive, send, 413, self._too_large(int(declared)))
            return
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.seconds
        more = True
        while more:
            try:
                message = await asyncio.wait_for(receive(), timeout=max(deadline - time.monotonic(), 0.001))
            except TimeoutError:
                await _refuse(scope, receive, send, 408, f"the body did not arrive within {self.seconds:g} s")
                return
            if message["type"] == "http.disconnect":
                return  # the client left: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _refuse(scope, receive, send, 413, self._too_large(size, more_coming=True))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        delivered = False

        async def replay() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())  # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)

    def _too_large(self, size: int, *, more_coming: bool = False) -> str:
        at_least = "more than " if more_coming else ""
        return f"the body is {at_least}{size / 1e6:.1f} MB; deployment.max_body_mb is {self.limit_mb:g}"


async def _refuse(scope: dict[str, Any], receive: Any, send: Any, status: int, message: str) -> None:
    response = problem(RequestRejected(status, message))
    if status in (408, 413):
        response.headers["Connection"] = "close"  # the rest of the body is not read: the connection cannot be reused
    await response(scope, receive, send)
