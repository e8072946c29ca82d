"""Benchmark: personal reminders at province scale: 100,000 due at 08:00, one worker's sweep.

Fills a fresh database with N residents (each with a private chat; half of them also an older web
chat), N reminders due at 08:00 Vietnam time (half a child's vaccine doses, half a BHYT card
expiry) and N more due the next day, then times ONE call of the production sweep
(`scheduler.reminders.sweep_reminders`) and checks every due reminder was queued exactly once.

Before issue 21 the sweep took 500 reminders a minute with two queries per reminder: 100,000
reminders needed 200 minutes. The goal now: all of them queued in under 60 s on one worker.

    .venv/bin/python bench/reminders.py [--reminders 100000] [--db postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DUE = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
INSERT_CHUNK = 5000
OLD_RATE_PER_MINUTE = 500  # the previous sweep: BATCH = 500 per one-minute sweep


async def fill(db_url: str, n: int) -> None:
    from sqlalchemy import insert, text

    from storage.db import open_database, upgrade
    from storage.models import Chat, Person, Reminder

    if db_url.startswith("postgresql"):
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(db_url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    await upgrade(db_url)
    db = open_database(db_url)
    doses = [["penta_2", "opv_2"], ["penta_3", "opv_3"], ["penta_1", "opv_1"]]
    for start in range(0, n, INSERT_CHUNK):
        ids = range(start + 1, min(n, start + INSERT_CHUNK) + 1)
        async with db.sessions() as session, session.begin():
            await session.execute(insert(Person), [
                {"id": i, "locale": "en" if i % 7 == 0 else "vi"} for i in ids])
            await session.execute(insert(Chat), [
                {"channel": "telegram", "external_id": str(10_000_000 + i), "kind": "private",
                 "person_id": i, "last_inbound_at": DUE - timedelta(days=1)} for i in ids] + [
                {"channel": "web", "external_id": f"web-{i}", "kind": "private",
                 "person_id": i, "last_inbound_at": DUE - timedelta(days=30)}
                for i in ids if i % 2 == 0])
            await session.execute(insert(Reminder), [
                {"person_id": i, "kind": "vaccine", "due_at": DUE + timedelta(days=day),
                 "payload": {"child": f"Bé {i % 97}", "doses": doses[i % 3],
                             "due": (DUE + timedelta(days=day + 2)).date().isoformat()},
                 "dedupe_key": f"bench:{day}:{i}"}
                if i % 2 else
                {"person_id": i, "kind": "bhyt", "due_at": DUE + timedelta(days=day),
                 "payload": {"expiry": (DUE + timedelta(days=30 + i % 28)).date().isoformat()},
                 "dedupe_key": f"bench:{day}:{i}"}
                for i in ids for day in (0, 1)])
    await db.close()


async def run(db_url: str, n: int) -> None:
    from sqlalchemy import func, select

    from bot.config import load_settings
    from content.library import load_library
    from scheduler.reminders import sweep_reminders
    from storage.db import open_database
    from storage.models import Outbox

    started = time.perf_counter()
    await fill(db_url, n)
    print(f"filled {n:,} residents and {2 * n:,} reminders ({n:,} due at 08:00) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    settings = load_settings(None, env={})
    settings = replace(settings, database=replace(settings.database, url=db_url))
    library = load_library()
    db = open_database(db_url)
    started = time.perf_counter()
    queued = await sweep_reminders(db, settings, library, DUE + timedelta(seconds=30))
    seconds = time.perf_counter() - started
    async with db.sessions() as session:
        rows, keys = (await session.execute(
            select(func.count(), func.count(func.distinct(Outbox.dedupe_key))))).one()
    await db.close()
    backend = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
    print(f"{backend}: one sweep queued {queued:,} reminders in {seconds:.1f} s "
          f"= {queued / seconds:,.0f}/s ({'under' if seconds < 60 else 'OVER'} the 60 s goal); "
          f"outbox rows {rows:,}, distinct keys {keys:,}", flush=True)
    print(f"before: {OLD_RATE_PER_MINUTE} a minute -> {n / OLD_RATE_PER_MINUTE:.0f} minutes for "
          f"{n:,}", flush=True)
    assert queued == n == rows == keys, "every due reminder queued exactly once"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    url = args.db or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    asyncio.run(run(url, args.reminders))
