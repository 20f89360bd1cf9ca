"""The key ring on SQL: ids, scopes and SHA-256 hashes of the secrets — never a secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa

from mlcycle.exceptions import StoreError
from mlcycle.store._base import KeyRing
from mlcycle.store.records import SCOPES, ApiKey, IssuedKey, utcnow
from mlcycle.store.sql.tables import api_keys


class SqlKeyRing(KeyRing):
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def create(self, scope: str, note: str | None = None) -> IssuedKey:
        if scope not in SCOPES:
            raise StoreError(f"scope must be one of {', '.join(SCOPES)}. Got {scope!r}")
        key_id = secrets.token_hex(4)
        secret = f"mlc_{key_id}_{secrets.token_urlsafe(24)}"
        with self.engine.begin() as connection:
            connection.execute(
                api_keys.insert().values(id=key_id, hash=_hash(secret), scope=scope, note=note, created_at=utcnow())
            )
        return IssuedKey(key_id, secret)

    def all(self) -> list[ApiKey]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(api_keys).order_by(api_keys.c.created_at)).mappings()
            return [ApiKey(r["id"], r["scope"], r["note"], r["created_at"], r["revoked_at"]) for r in rows]

    def revoke(self, key_id: str) -> None:
        with self.engine.begin() as connection:
            done = connection.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        if done.rowcount == 0:
            known = ", ".join(k.id for k in self.all() if k.revoked_at is None) or "none"
            raise StoreError(f"no active key {key_id!r}; active keys: {known}")

    def scope_of(self, secret: str) -> str | None:
        found = self.find(secret)
        return None if found is None else found.scope

    def find(self, secret: str) -> ApiKey | None:
        """The key is looked up by the id its secret carries (``mlc_<id>_…``), then its hash is compared in
        constant time: how long a refusal takes says nothing about how close a guess was."""
        parts = secret.split("_")
        if len(parts) < 3 or parts[0] != "mlc" or len(parts[1]) != 8:
            return None
        with self.engine.connect() as connection:
            query = sa.select(api_keys).where(api_keys.c.id == parts[1], api_keys.c.revoked_at.is_(None))
            r = connection.execute(query).mappings().first()
        if r is None or not hmac.compare_digest(r["hash"], _hash(secret)):
            return None
        return ApiKey(r["id"], r["scope"], r["note"], r["created_at"], r["revoked_at"])

    def any_active(self, scope: str | None = None) -> bool:
        query = sa.select(sa.func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_(None))
        if scope is not None:
            query = query.where(api_keys.c.scope == scope)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one()) > 0


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
