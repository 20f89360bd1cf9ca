"""API keys and scopes: view (reports and the dashboard), predict, feedback, admin.

With no key configured the service is open but binds to 127.0.0.1 only (``serve`` enforces
it). Once any key exists, every route but the health probes needs one — ``Authorization:
Bearer <key>`` or ``X-API-Key: <key>`` —: 401 without a valid key, 403 with a key of the wrong
scope. An admin key may do everything; any key may view (``/openapi.json``, the dashboard).
Admin routes stay closed while no admin key exists.

Keys under attack:

- Only hashes are stored, and a key's hash is compared in constant time (the store's contract).
- Only *valid* keys are remembered, for :data:`CACHE_SECONDS`, so a check costs nothing; a wrong
  key is never kept, so a client sending endless distinct wrong keys cannot grow the service.
- A client (by address) that sends a wrong key :data:`FAILURES_PER_MINUTE` times within a minute is refused
  with 429 and ``Retry-After`` until its oldest failure is a minute old — even with a right key.
  The failure table holds at most :data:`MAX_CLIENTS` addresses (the stalest are dropped first).
- Each refusal is logged (logger ``mlcycle.auth``): the client, the route and why — never the key.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict, deque

from fastapi import Request

from mlcycle.deploy.predictlog import unavailable
from mlcycle.exceptions import RequestRejected
from mlcycle.store import ApiKey, Store

CACHE_SECONDS = 5.0
FAILURES_PER_MINUTE = 20
WINDOW_SECONDS = 60.0
MAX_CLIENTS = 10_000

log = logging.getLogger("mlcycle.auth")


class FailureLimiter:
    """Failed key checks per client in a sliding minute; bounded in memory whatever the clients send."""

    def __init__(
        self, limit: int = FAILURES_PER_MINUTE, window: float = WINDOW_SECONDS, max_clients: int = MAX_CLIENTS
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def blocked_for(self, client: str) -> float:
        """Seconds until ``client`` may try again (0 when it may now)."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(client)
            if failures is None:
                return 0.0
            while failures and now - failures[0] > self.window:
                failures.popleft()
            if not failures:
                del self._failures[client]
                return 0.0
            return self.window - (now - failures[0]) if len(failures) >= self.limit else 0.0

    def check(self, client: str, what: str) -> None:
        """Raise 429 with ``Retry-After`` while ``client`` is blocked; ``what`` names the failures counted."""
        wait = self.blocked_for(client)
        if wait > 0:
            seconds = math.ceil(wait)
            raise RequestRejected(
                429,
                f"too many failed {what} from this client ({self.limit} a minute); retry in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )

    def fail(self, client: str) -> int:
        """Count a failure of ``client``; returns its failures within the window."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures.pop(client, None) or deque(maxlen=self.limit)
            failures.append(now)
            self._failures[client] = failures  # most recent last: the stalest are dropped first
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
            return sum(1 for t in failures if now - t <= self.window)

    def __len__(self) -> int:
        return len(self._failures)


class ValidKeys:
    """The store's active keys, each remembered for :data:`CACHE_SECONDS` after it was last found (so a check
    costs nothing); a wrong key is never kept, and a revoked one is forgotten when next looked up."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._found: dict[str, tuple[ApiKey, float]] = {}

    def find(self, secret: str) -> ApiKey | None:
        now = time.monotonic()
        known = self._found.get(secret)
        if known is not None and now - known[1] <= CACHE_SECONDS:
            return known[0]
        key = self.store.keys.find(secret)
        if key is None:
            self._found.pop(secret, None)
        else:
            self._found[secret] = (key, now)
        return key

    def forget(self) -> None:
        self._found.clear()

    def __len__(self) -> int:
        return len(self._found)


def client_of(request: Request) -> str:
    """The client's address: what failed keys are counted by."""
    return request.client.host if request.client else "unknown"


def header_secret(request: Request) -> str | None:
    """The key a request carries: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    header = request.headers.get("authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    return request.headers.get("x-api-key") or None


class Auth:
    def __init__(self, store: Store, limiter: FailureLimiter | None = None) -> None:
        self.store = store
        self.limiter = limiter or FailureLimiter()
        self.keys = ValidKeys(store)
        self._any: tuple[bool, bool, float] | None = None

    def _configured(self) -> tuple[bool, bool]:
        """Whether any key, and any admin key, exist. While the store cannot be read, what was last read holds:
        an open service stays open and a closed one closed (keys are rarely created during an outage)."""
        now = time.monotonic()
        if self._any is None or now - self._any[2] > CACHE_SECONDS:
            try:
                self._any = (self.store.keys.any_active(), self.store.keys.any_active("admin"), now)
            except Exception:  # whatever the driver raised: fall back on what was read before, if anything
                if self._any is None:
                    raise
        return self._any[0], self._any[1]

    def check(self, request: Request, scope: str) -> None:
        try:
            self._check(request, scope)
        except RequestRejected:
            raise
        except Exception as exc:  # the store cannot be read: no key can be checked, so none is accepted
            raise unavailable(f"API keys cannot be checked: the store is unavailable ({type(exc).__name__})") from None

    def _check(self, request: Request, scope: str) -> None:
        any_key, admin_key = self._configured()
        if scope == "admin" and not admin_key:
            raise RequestRejected(
                403,
                "admin endpoints are closed: no admin key exists. Create one with `mlcycle keys create --scope admin`",
            )
        if not any_key:
            return
        client = client_of(request)
        try:
            self.limiter.check(client, "API keys")
        except RequestRejected as blocked:
            log.warning("refused %s on %s: too many failed keys (%s)", client, request.url.path, blocked)
            raise
        secret = header_secret(request)
        if not secret:  # not a guess: a client that forgot its key is told so, and not counted
            log.warning("refused %s on %s: no key", client, request.url.path)
            raise RequestRejected(
                401,
                "an API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
                headers={"WWW-Authenticate": "Bearer"},
            )
        key = self.keys.find(secret)
        granted = key.scope if key is not None else None
        if granted is None:
            self._refuse(client, request, "unknown or revoked key")
            raise RequestRejected(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        if granted not in (scope, "admin") and scope != "view":  # any valid key may view
            log.warning("refused %s on %s: a %s key, %s needed", client, request.url.path, granted, scope)
            raise RequestRejected(403, f"this key has scope {granted!r}; this endpoint needs {scope!r}")

    def _refuse(self, client: str, request: Request, why: str) -> None:
        failures = self.limiter.fail(client)
        log.warning("refused %s on %s: %s (%d failures in the last minute)", client, request.url.path, why, failures)

    def forget(self) -> None:
        self.keys.forget()
        self._any = None
