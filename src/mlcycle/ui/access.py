"""Who may see and do what on the dashboard: API keys, the browser's sign-in cookie, forgery protection.

The dashboard keeps the service's rules (:mod:`mlcycle.deploy.auth`): with no key in a use
case's store it is open, and then ``mlcycle ui`` binds to 127.0.0.1 only; once keys exist,
every page needs one — any active key may *view* (the ``view`` scope exists for people who
may only look), and actions (retrain, rollback, retire, promote) need an ``admin`` key.

A browser signs in once with its key on ``/login``; the key travels back in an HttpOnly,
SameSite=Strict cookie (scripts may send ``Authorization: Bearer`` or ``X-API-Key`` as they
do to the service). Every form carries a token bound to the browser's own random cookie
(double submit, compared in constant time), and a POST whose ``Origin`` is another site is
refused, so another page cannot make a signed-in browser act.
"""

from __future__ import annotations

import getpass
import hmac
import time
from dataclasses import dataclass

from fastapi import Request

from mlcycle.deploy.auth import FailureLimiter, ValidKeys, client_of, header_secret
from mlcycle.exceptions import RequestRejected
from mlcycle.store import Store

KEY_COOKIE = "mlcycle_key"
CSRF_COOKIE = "mlcycle_csrf"
ROLE_COOKIE = "mlcycle_role"
ROLES = {"data_scientist": "Data scientist", "domain_expert": "Domain expert", "business": "Business"}
DEFAULT_ROLE = "business"
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Viewer:
    """The person behind a request: how the audit trail names them, and whether they may act."""

    actor: str
    admin: bool
    signed_in: bool  # False when the use case has no keys (an open, local dashboard)


def secret_of(request: Request) -> str | None:
    """The key a script sends as the service reads it, or the one the browser signed in with."""
    return header_secret(request) or request.cookies.get(KEY_COOKIE) or None


class Access:
    """Key checks against one use case's store, cached for a few seconds as the service does."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._any: tuple[bool, float] | None = None
        self.keys = ValidKeys(store)
        self.limiter = FailureLimiter()

    def open(self) -> bool:
        """True when the use case has no active key: anyone who reaches 127.0.0.1 may look and act."""
        now = time.monotonic()
        if self._any is None or now - self._any[1] > CACHE_SECONDS:
            self._any = (self.store.keys.any_active(), now)
        return not self._any[0]

    def viewer(self, request: Request) -> Viewer:
        """Who is asking; raises 401 (no or unknown key) — the page then offers the sign-in form."""
        if self.open():
            return Viewer(f"local user {getpass.getuser()}", admin=True, signed_in=False)
        client = client_of(request)
        self.limiter.check(client, "sign-ins")
        secret = secret_of(request)
        key = self.keys.find(secret) if secret else None
        if key is None:
            if secret:  # a page opened before signing in is not a failure; a wrong key is
                self.limiter.fail(client)
            raise RequestRejected(401, "sign in with an API key (any scope may view; actions need admin)")
        actor = f"key {key.id}" + (f" ({key.note})" if key.note else "")
        return Viewer(actor, admin=key.scope == "admin", signed_in=True)

    def admin(self, request: Request) -> Viewer:
        viewer = self.viewer(request)
        if not viewer.admin:
            raise RequestRejected(
                403, "this action needs an admin key; create one with `mlcycle keys create --scope admin`"
            )
        return viewer

    def forget(self) -> None:
        self._any = None
        self.keys.forget()


def csrf_token(request: Request) -> str:
    """The browser's forgery token: its own random cookie, set on the first page it loads."""
    return request.cookies.get(CSRF_COOKIE) or request.state.new_csrf


def check_form(request: Request, token: str | None) -> None:
    """Refuse a POST that does not come from one of our own pages."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise RequestRejected(403, f"a form from {origin} may not act on this dashboard")
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not token or not hmac.compare_digest(cookie, token):
        raise RequestRejected(403, "the form's token is missing or stale: reload the page and try again")


def role_of(request: Request) -> str:
    chosen = request.query_params.get("role") or request.cookies.get(ROLE_COOKIE)
    return chosen if chosen in ROLES else DEFAULT_ROLE
