"""One holder at a time for a store-wide job — a monitoring run — across processes and machines.

Two ``mlcycle monitor`` runs at once (cron overlapping a backfill started by hand) each open and
close alert episodes window by window; interleaved, one run's older window clears the episode the
other just raised, and the next raises it again. Upserts keep rows single, not the order of
windows, so a run holds the store's lock from its first window to its last.

SQLite: an ``flock`` on a file beside the database. PostgreSQL: a session advisory lock on a
connection kept for the job. In both, whoever ends the holder — an exception, SIGKILL, a lost
machine — ends the lock with it: there is no stale lock for an operator to clear, which a row in a
table would leave behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa

from mlcycle.exceptions import StoreError

POLL_SECONDS = 0.2


@contextlib.contextmanager
def held(engine: sa.Engine, name: str, wait_seconds: float) -> Iterator[None]:
    """Hold the lock ``name`` of the store behind ``engine`` while the block runs.

    Waits up to ``wait_seconds`` for another holder to finish, then raises :class:`StoreError`.
    """
    take = _advisory if engine.dialect.name == "postgresql" else _flock
    with take(engine, name, wait_seconds):
        yield


@contextlib.contextmanager
def _flock(engine: sa.Engine, name: str, wait_seconds: float) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # one process's private store: nobody to exclude
        return
    path = Path(f"{database}.{name}.lock")
    with path.open("a+", encoding="utf-8") as handle:
        _wait(lambda: _try_flock(handle.fileno()), name, wait_seconds, str(path))
        try:
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n")  # who holds it, for a curious operator
            handle.flush()
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def _advisory(engine: sa.Engine, name: str, wait_seconds: float) -> Iterator[None]:
    key = int.from_bytes(hashlib.sha256(f"mlcycle:{name}".encode()).digest()[:8], "big", signed=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:

        def attempt() -> bool:
            return bool(connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())

        _wait(attempt, name, wait_seconds, f"advisory lock {key}")
        try:
            yield
        finally:
            with contextlib.suppress(sa.exc.DBAPIError):  # a lost connection has released it already
                connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})


def _wait(attempt: Callable[[], bool], name: str, wait_seconds: float, where: str) -> None:
    deadline = time.monotonic() + wait_seconds
    while not attempt():
        if time.monotonic() >= deadline:
            raise StoreError(
                f"another {name} run has held the store ({where}) for over {wait_seconds:g} s: let it finish, "
                "or stop it if it hangs — its lock ends with its process"
            )
        time.sleep(POLL_SECONDS)
