"""Database engine and migrations.

`open_database(url)` returns a `Database` with an async engine and a session factory; SQLite runs in
WAL mode with foreign keys on. `upgrade(url)` brings the schema to the newest Alembic revision and is
what `healthbot db upgrade` (and `healthbot run`, on start) calls.
"""

from __future__ import annotations

import asyncio
import errno
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling starts no transaction before a SAVEPOINT or a SELECT,
    # so a read-then-write transaction can find the database changed under it and fail at once
    # with "database is locked". The engine's "begin" event takes over instead (below).
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock when the transaction starts: concurrent transactions then queue on the
    # busy timeout instead of failing half-way (SQLite has one writer at a time anyway).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _ensure_sqlite_dir(url: str) -> None:
    """Create the SQLite file's folder, and fail here, plainly, if the file cannot be written
    (a folder in its place, a read-only place): the driver's own failure comes from its thread."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "a folder, not a database file", str(path))
        with path.open("ab"):
            pass


# A pooled PostgreSQL connection unused for this long is pinged before use (the server may have
# restarted meanwhile). Pinging every checkout, SQLAlchemy's `pool_pre_ping`, costs a round trip
# per transaction; a connection that fails in use anyway is handled by `HealthBot.handle`.
PING_AFTER_IDLE_SECONDS = 10.0


def _ping_if_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    sync = engine.sync_engine

    @event.listens_for(sync, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(sync, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            alive = sync.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure means: use another connection
            raise DisconnectionError("idle connection failed its ping") from exc
        if not alive:
            raise DisconnectionError("idle connection failed its ping")


def open_database(url: str, *, ping_after_idle: float = PING_AFTER_IDLE_SECONDS) -> Database:
    """Create the engine (no I/O yet); SQLite files get their folder created."""
    _ensure_sqlite_dir(url)
    # Statement parameters are residents' texts, phones and web cookies: never in an error message.
    kwargs: dict[str, Any] = {"hide_parameters": True}
    if url.startswith("postgresql"):
        kwargs.update(pool_size=10, max_overflow=10)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "connect", _sqlite_driver_autocommit)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
    else:
        _ping_if_idle(engine, ping_after_idle)
    return Database(engine, async_sessionmaker(engine, expire_on_commit=False))


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Run the migrations (blocking; owns its own event loop)."""
    _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Run the migrations from async code, in a worker thread with its own loop."""
    await asyncio.to_thread(upgrade_sync, url, revision)
