"""Benchmark: what a storage-backed test pays for its fresh database (tests/conftest.py `db_url`).

Before: every test ran the Alembic migrations (SQLite: a new file; PostgreSQL: DROP SCHEMA, then
migrate). Now the migrations run once per session and each test gets a copy: the SQLite file is
copied, the PostgreSQL database is re-created from a migrated template database. Prints the
median and mean seconds per test for each way, on each backend.

    .venv/bin/python bench/fresh_databases.py [--db postgresql+asyncpg://postgres@127.0.0.1:5432/NAME] \
        [--runs 10]

The PostgreSQL database given with --db is wiped (and NAME_migrated created, then dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storage.db import upgrade  # noqa: E402
from tests.conftest import _admin, reset_postgres  # noqa: E402


async def timed(runs: int, step: Callable[[int], Awaitable[None]]) -> list[float]:
    times = []
    for n in range(runs):
        started = time.perf_counter()
        await step(n)
        times.append(time.perf_counter() - started)
    return times


def show(label: str, times: list[float]) -> None:
    print(
        f"{label:<44} median {statistics.median(times):6.3f} s   mean {statistics.mean(times):6.3f} s"
    )


async def main(db: str | None, runs: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-testdb-"))
    try:
        template = folder / "migrated.db"
        await upgrade(f"sqlite+aiosqlite:///{template}")

        async def sqlite_migrate(n: int) -> None:
            await upgrade(f"sqlite+aiosqlite:///{folder / f'm{n}.db'}")

        async def sqlite_copy(n: int) -> None:
            shutil.copyfile(template, folder / f"c{n}.db")

        show("SQLite: migrate per test (before)", await timed(runs, sqlite_migrate))
        show("SQLite: copy of a migrated file (now)", await timed(runs, sqlite_copy))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not db:
        return
    name = make_url(db).database
    tmpl = f"{name}_migrated"
    tmpl_url = make_url(db).set(database=tmpl).render_as_string(hide_password=False)
    await _admin(db, f'DROP DATABASE IF EXISTS "{tmpl}" WITH (FORCE)', f'CREATE DATABASE "{tmpl}"')
    await upgrade(tmpl_url)
    await _admin(db, f'ALTER DATABASE "{tmpl}" WITH ALLOW_CONNECTIONS false')
    try:

        async def pg_migrate(_n: int) -> None:
            await reset_postgres(db)
            await upgrade(db)

        async def pg_copy(_n: int) -> None:
            await _admin(db, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                         f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"')  # fmt: skip

        # Alternated, so that a busy moment on a shared machine weighs on both alike.
        before, now = [], []
        for _ in range(runs):
            now += await timed(1, pg_copy)  # first: it creates the database if it is missing
            before += await timed(1, pg_migrate)
        show("PostgreSQL: drop schema + migrate (before)", before)
        show("PostgreSQL: database from a template (now)", now)
    finally:
        await _admin(db, f'ALTER DATABASE "{tmpl}" WITH ALLOW_CONNECTIONS true',
                     f'DROP DATABASE IF EXISTS "{tmpl}" WITH (FORCE)')  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a PostgreSQL URL (wiped)")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.db, args.runs))
