"""Shared fixtures: a migrated database on SQLite (always) and PostgreSQL (when configured).

Set HEALTHBOT_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test to run every
storage-backed test on PostgreSQL too (CI does); without it those runs are skipped with a reason.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import upgrade, upgrade_sync
from tests.library_files import library_copy  # noqa: F401 (a fixture for every test module)

# bot.* is imported inside the fixtures, so tests of pure parts (content, plans, fakes) load even
# while the conversation layer is being changed.

os.environ.setdefault("PTB_TIMEDELTA", "1")
PG_ENV = "HEALTHBOT_TEST_DATABASE_URL"
PG_SKIP = f"PostgreSQL run skipped: set {PG_ENV} (CI sets it to postgresql+asyncpg://postgres@127.0.0.1:5432/test)"


# Monday 23/11/2026 10:00 in Vietnam: the day before a public holiday (24/11), which the SLA tests use.
TEST_START = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


class FakeClock:
    """A settable clock for tests (aware UTC).

    Product code must take "now" from the services' clock, never from the wall clock: the tests
    run at a fixed date whatever the real date is.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or TEST_START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now = self.now + timedelta(**delta)


async def reset_postgres(url: str) -> None:
    # The database may be missing if a run was killed between a test's drop and re-create.
    await _ensure_database(url, make_url(url).database)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def _admin_url(url: str) -> str:
    """The same server and user, connected to the maintenance database (to create others)."""
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


async def _admin(url: str, *statements: str) -> None:
    engine = create_async_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _ensure_database(url: str, name: str) -> None:
    engine = create_async_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if found.first() is None:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head per session; each test gets a byte-for-byte copy.

    Running the migrations for every test cost ~0.25 s each (docs/benchmarks.md, "Test suite
    speed"); a copy of the migrated file is the same database and takes a millisecond.
    """
    path = tmp_path_factory.mktemp("migrated") / "healthbot.db"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    # The migrations leave no write-ahead log behind: the main file alone is the whole database.
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str | None]:
    """A PostgreSQL database migrated to head once per session, the template each test's
    database is created from (`CREATE DATABASE ... TEMPLATE`: a fresh copy, schema and rows).

    None when PostgreSQL is not configured, or when its user may not create databases: the
    tests then reset and migrate the configured database each time, as before.
    """
    url = os.environ.get(PG_ENV, "")
    if not url:
        yield None
        return
    name = make_url(url).database
    template = f"{name}_migrated"
    template_url = make_url(url).set(database=template).render_as_string(hide_password=False)
    try:
        asyncio.run(
            _admin(
                url,
                f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)',
                f'CREATE DATABASE "{template}"',
            )
        )
    except Exception:  # noqa: BLE001 - no CREATEDB right: migrate per test instead
        yield None
        return
    upgrade_sync(template_url)
    # A run killed between a test's drop and its re-create leaves the configured database
    # missing; tests that reset it themselves (test_workers…) need it to exist.
    asyncio.run(_ensure_database(url, name))
    # A template database must have no open session while a copy is made.
    asyncio.run(_admin(url, f'ALTER DATABASE "{template}" WITH ALLOW_CONNECTIONS false'))
    yield template
    asyncio.run(
        _admin(
            url,
            f'ALTER DATABASE "{template}" WITH ALLOW_CONNECTIONS true',
            f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)',
        )
    )


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    migrated_sqlite: Path,
    migrated_postgres: str | None,
) -> AsyncIterator[str]:
    """A freshly migrated database URL, once per backend: a copy of a database migrated once
    per session (SQLite: the file; PostgreSQL: a template database), so no test sees another's
    rows."""
    if request.param == "sqlite":
        path = tmp_path / "healthbot.db"
        shutil.copyfile(migrated_sqlite, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url = os.environ.get(PG_ENV, "")
    if not url:
        pytest.skip(PG_SKIP)
    if migrated_postgres is None:
        await reset_postgres(url)
        await upgrade(url)
    else:
        name = make_url(url).database
        await _admin(
            url,
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}" TEMPLATE "{migrated_postgres}"',
        )
    yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(db_url: str):  # noqa: ANN201 - bot.config.Settings
    from bot.config import load_settings

    base = load_settings(None, env={})
    return replace(base, database=replace(base.database, url=db_url))


@pytest.fixture
async def services(settings, clock: FakeClock):  # noqa: ANN001, ANN201
    from bot.app import build_services

    svc = build_services(settings, clock=clock)
    yield svc
    await svc.db.close()


@pytest.fixture
def healthbot(services):  # noqa: ANN001, ANN201 - bot.engine.HealthBot
    from bot.app import build_bot

    return build_bot(services)


@pytest.fixture
def postgres_only(db_url: str) -> Iterator[None]:
    if not db_url.startswith("postgresql"):
        pytest.skip("this behaviour is specific to PostgreSQL")
    yield


async def drop_other_connections(url: str) -> int:
    """What a PostgreSQL restart does to a pool: every other session of the database ends."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        ended = await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        count = len(ended.all())
    await engine.dispose()
    return count


@pytest.fixture
def sqlite_only(db_url: str) -> Iterator[None]:
    if not db_url.startswith("sqlite"):
        pytest.skip("this behaviour is specific to SQLite")
    yield
