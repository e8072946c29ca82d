"""Fault test: the database goes away in the middle of a broadcast; every resident gets it once.

The dispatcher sends through the real Telegram sender (python-telegram-bot over HTTP to the fake
Bot API) while the test cuts the database: on PostgreSQL by `pg_terminate_backend` of every
connection, again and again; on SQLite by a trigger that refuses to mark rows sent for a while.
Before the bookkeeping was retried, an outcome that failed to commit left its row 'sending'; when
the claim expired it was sent a second time.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine
from telegram import Bot

from bot.channels.telegram_send import TelegramSender
from bot.model import Outbound
from scheduler.dispatcher import Dispatcher
from scheduler.pacing import ChannelLimits
from storage import outbox
from storage.db import open_database
from storage.models import Outbox
from tests.conftest import drop_other_connections
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram

pytestmark = pytest.mark.faults

RESIDENTS = 300
FAULT_SECONDS = 2.0
LEASE = timedelta(seconds=1)
NO_PACING = {"telegram": ChannelLimits()}  # the fault, not the platform's rate, is under test


async def queue_broadcast(url: str) -> None:
    db = open_database(url)
    async with db.sessions() as session, session.begin():
        for n in range(RESIDENTS):
            await outbox.enqueue(
                session, dedupe_key=f"broadcast:1:chat:{7000 + n}", channel="telegram",
                chat_id=str(7000 + n), payload=Outbound(f"Phòng sốt xuất huyết #{n}").to_payload(),
                broadcast_id=1, not_before=datetime.now(UTC) - timedelta(seconds=1),
            )  # fmt: skip
    await db.close()


async def cut_postgres(url: str, until: float) -> int:
    """Terminate every other connection to the database, every 50 ms, until `until`."""
    cuts = 0
    while time.monotonic() < until:
        cuts += await drop_other_connections(url)
        await asyncio.sleep(0.05)
    return cuts


async def cut_sqlite(url: str, until: float) -> int:
    """Refuse to record sends (a trigger aborts the UPDATE) until `until`."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(
            "CREATE TRIGGER injected_fault BEFORE UPDATE OF status ON outbox "
            "WHEN NEW.status = 'sent' BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
        ))  # fmt: skip
    await asyncio.sleep(max(0.0, until - time.monotonic()))
    async with engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER injected_fault"))
    await engine.dispose()
    return 1


async def test_a_database_cut_during_a_broadcast_loses_nothing_and_sends_nothing_twice(
    db_url: str,
) -> None:
    await queue_broadcast(db_url)
    async with FakeTelegram(flood_limits=None) as fake:
        bot = Bot(DEFAULT_TOKEN, base_url=fake.bot_api_url)
        await bot.initialize()
        senders = {"telegram": TelegramSender(bot)}
        db = open_database(db_url)
        first = Dispatcher(db, senders, worker_id="w1", limits=NO_PACING, lease=LEASE,
                           max_in_flight=16, batch_size=16)
        stop = asyncio.Event()
        running = asyncio.create_task(first.run_forever(stop))
        await fake.wait_until(lambda: len(fake.sent) >= 20, timeout=20)
        cut = cut_postgres if db_url.startswith("postgresql") else cut_sqlite
        cuts = await cut(db_url, time.monotonic() + FAULT_SECONDS)
        assert cuts > 0
        await fake.wait_until(lambda: len(fake.sent) >= RESIDENTS, timeout=60)
        stop.set()
        await asyncio.wait_for(running, 30)
        # A second worker comes by after every claim has expired: a row left 'sending' by a
        # failed bookkeeping step would be reclaimed and sent again here.
        await asyncio.sleep(LEASE.total_seconds() + 0.2)
        second = Dispatcher(db, senders, worker_id="w2", limits=NO_PACING, lease=LEASE)
        await second.drain(timeout=30)
        async with db.sessions() as session:
            statuses = Counter((await session.execute(select(Outbox.status))).scalars().all())
        await db.close()
        await bot.shutdown()
    per_chat = Counter(m.chat_id for m in fake.sent)
    print(f"\n{db_url.split(':')[0]}: {cuts} cuts, {len(per_chat)} of {RESIDENTS} residents reached, "
          f"{sum(n - 1 for n in per_chat.values())} messages sent twice")
    assert len(per_chat) == RESIDENTS, "lost"  # every resident got it
    assert max(per_chat.values()) == 1, [c for c, n in per_chat.items() if n > 1]  # none twice
    assert statuses == {"sent": RESIDENTS}
