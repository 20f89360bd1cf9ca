"""One SQLAlchemy engine per process and store address, and the schema's migrations run once.

Every command, every service worker and every monitoring run opens the store several times
(the service, its log writer, the feedback route, the monitor's windows…). Each engine is a
connection pool; one per open would multiply the connections to PostgreSQL and the file
handles on SQLite, and running Alembic on each open would cost a transaction every time.
So engines are kept here per (process id, address) — a forked or spawned worker gets its
own, never its parent's sockets — and :func:`migrate_once` remembers which addresses this
process has already brought to the latest schema.
"""

from __future__ import annotations

import os
import threading
from importlib import resources
from typing import Any

import sqlalchemy as sa

from mlcycle.exceptions import StoreError

VERSION_TABLE = "mlcycle_alembic_version"

_lock = threading.Lock()
_engines: dict[tuple[int, str], sa.Engine] = {}
_migrated: set[tuple[int, str]] = set()


def dialect_of(url: str) -> str:
    return sa.engine.make_url(url).get_backend_name()


def insert_for(engine: sa.Engine) -> Any:
    """The dialect's ``insert`` — the one with ``on_conflict_do_nothing`` / ``on_conflict_do_update``.

    An upsert is one statement the database settles under its own locks; a read before a write
    in Python is not, when two processes do it at once.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


def shown(url: str) -> str:
    """The address as messages show it: never the password."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def engine_for(url: str) -> sa.Engine:
    """This process's engine for ``url``, made on first use."""
    key = (os.getpid(), url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _create(url)
        return engine


def _create(url: str) -> sa.Engine:
    dialect = dialect_of(url)
    if dialect == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise StoreError("a PostgreSQL store needs its driver: pip install 'mlcycle[postgres]'") from None
    options: dict[str, Any] = {"pool_pre_ping": True}
    if dialect == "sqlite":
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = sa.create_engine(url, **options)
    if dialect == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


MIGRATION_WAIT_SECONDS = 300  # a replica starting beside one that migrates waits this long for it


def migrate(engine: sa.Engine) -> None:
    """Bring the store to the latest schema with Alembic (idempotent), one process at a time.

    Replicas started together would otherwise each read the schema's version, find it behind, and run the
    same ``CREATE TABLE`` — the second fails on a table the first just made. So the upgrade holds the
    store's ``migration`` lock (PostgreSQL: an advisory lock; SQLite: an ``flock`` beside the file); the
    others wait, then find the schema current and do nothing.
    """
    from alembic import command
    from alembic.config import Config

    from mlcycle.store.sql import lock

    config = Config()
    config.set_main_option("script_location", str(resources.files("mlcycle.store") / "migrations"))
    config.attributes["version_table"] = VERSION_TABLE
    try:
        with lock.held(engine, "migration", MIGRATION_WAIT_SECONDS), engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except sa.exc.OperationalError as exc:
        raise StoreError(f"cannot reach the monitoring store {shown(str(engine.url))}: {exc.orig}") from None


def migrate_once(url: str) -> None:
    """:func:`migrate` the first time this process asks for ``url``; a no-op afterwards."""
    key = (os.getpid(), url)
    with _lock:
        if key in _migrated:
            return
    migrate(engine_for(url))
    with _lock:
        _migrated.add(key)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # a committed batch survives the process being killed
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")  # several service workers share one file
    cursor.close()
