"""The key ring's contract: a secret shown once, scopes checked, revocation named."""

from __future__ import annotations

import pytest

from mlcycle.exceptions import StoreError
from mlcycle.store import Store


def test_keys_have_scopes_and_can_be_revoked(store: Store) -> None:
    key_id, secret = store.keys.create("predict", note="shop tills")
    assert store.keys.scope_of(secret) == "predict" and store.keys.scope_of(secret + "x") is None
    assert store.keys.any_active() and store.keys.any_active("predict") and not store.keys.any_active("admin")
    assert [(k.id, k.scope, k.note, k.revoked_at) for k in store.keys.all()] == [
        (key_id, "predict", "shop tills", None)
    ]
    store.keys.revoke(key_id)
    assert store.keys.scope_of(secret) is None and not store.keys.any_active()
    with pytest.raises(StoreError, match="no active key"):
        store.keys.revoke(key_id)
    with pytest.raises(StoreError, match="scope must be one of view, predict, feedback, admin"):
        store.keys.create("root")


def test_a_secret_names_its_key_for_the_audit_trail(store: Store) -> None:
    viewer_id, viewer = store.keys.create("view", note="finance team")
    found = store.keys.find(viewer)
    assert found is not None and (found.id, found.scope, found.note) == (viewer_id, "view", "finance team")
    assert store.keys.find("not-a-key") is None
    store.keys.revoke(viewer_id)
    assert store.keys.find(viewer) is None
