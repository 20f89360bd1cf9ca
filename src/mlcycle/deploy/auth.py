"""API keys and scopes: view (the dashboard), predict, feedback, admin.

With no key configured the service is open but binds to 127.0.0.1 only (``serve`` enforces
it). Once any key exists, every endpoint but the health checks needs one — ``Authorization:
Bearer <key>`` or ``X-API-Key: <key>`` —: 401 without a valid key, 403 with a key of the wrong
scope. An admin key may do everything. Admin endpoints stay closed while no admin key exists.
Only hashes are stored; lookups are cached for a few seconds so a key check costs nothing.
"""

from __future__ import annotations

import time

from fastapi import Request

from mlcycle.exceptions import RequestRejected
from mlcycle.store import Store

CACHE_SECONDS = 5.0


class Auth:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._scopes: dict[str, tuple[str | None, float]] = {}
        self._any: tuple[bool, bool, float] | None = None

    def _configured(self) -> tuple[bool, bool]:
        now = time.monotonic()
        if self._any is None or now - self._any[2] > CACHE_SECONDS:
            self._any = (self.store.keys.any_active(), self.store.keys.any_active("admin"), now)
        return self._any[0], self._any[1]

    def _scope(self, secret: str) -> str | None:
        now = time.monotonic()
        cached = self._scopes.get(secret)
        if cached is None or now - cached[1] > CACHE_SECONDS:
            cached = (self.store.keys.scope_of(secret), now)
            self._scopes[secret] = cached
        return cached[0]

    def check(self, request: Request, scope: str) -> None:
        any_key, admin_key = self._configured()
        if scope == "admin" and not admin_key:
            raise RequestRejected(
                403,
                "admin endpoints are closed: no admin key exists. Create one with `mlcycle keys create --scope admin`",
            )
        if not any_key:
            return
        header = request.headers.get("authorization", "")
        secret = (
            header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else request.headers.get("x-api-key")
        )
        if not secret:
            raise RequestRejected(
                401,
                "an API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
                headers={"WWW-Authenticate": "Bearer"},
            )
        granted = self._scope(secret)
        if granted is None:
            raise RequestRejected(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        if granted not in (scope, "admin"):
            raise RequestRejected(403, f"this key has scope {granted!r}; this endpoint needs {scope!r}")

    def forget(self) -> None:
        self._scopes.clear()
        self._any = None
