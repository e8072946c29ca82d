"""Shared fixtures: a migrated database on SQLite (always) and PostgreSQL (when configured).

Set HEALTHBOT_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test to run every
storage-backed test on PostgreSQL too (CI does); without it those runs are skipped with a reason.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import upgrade
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
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A freshly migrated database URL, once per backend."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'healthbot.db'}"
    else:
        url = os.environ.get(PG_ENV, "")
        if not url:
            pytest.skip(PG_SKIP)
        await reset_postgres(url)
    await upgrade(url)
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
