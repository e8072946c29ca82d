"""Pacing shared through Redis: several workers on one bot token keep one limit between them.

The slot tests use two pacers with their own Redis connections (two workers); the dispatcher tests
run three dispatchers, each with its own database engine, on PostgreSQL against FakeTelegram with
its flood limits on, through the real python-telegram-bot sender.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from bot.channels.telegram_send import TelegramSender
from bot.config import load_settings
from bot.model import Outbound
from scheduler.dispatcher import Dispatcher
from scheduler.pacing import TELEGRAM_LIMITS, ChannelLimits, ChannelPacer
from scheduler.shared_pacing import SharedChannelPacer, SharedPacing, token_namespace
from storage import outbox
from storage.db import Database, open_database
from tests.conftest import TEST_START
from tests.fakes.telegram_api import FakeTelegram, FloodLimits
from tests.redis_server import RedisForTest, redis_for_test

# Reserving never sleeps (it returns a future slot), so slow rates cost no test time and keep
# the slots far apart compared with a loaded machine's scheduling noise.
LIMITS = ChannelLimits(overall_per_second=2.0, private_per_second=1.0, group_per_minute=6.0)
# Seconds: a slot is "Redis time + wait" read back on the local clock; on a loaded machine the
# process may be descheduled between the two readings.
JITTER = 0.25


@pytest.fixture
async def redis_server() -> AsyncIterator[RedisForTest]:
    async with redis_for_test() as server:
        yield server


async def two_workers(server: RedisForTest) -> tuple[list[Redis], list[SharedChannelPacer]]:
    clients = [Redis.from_url(server.url) for _ in range(2)]
    pacers = [SharedChannelPacer(c, server.namespace, LIMITS) for c in clients]
    for pacer in pacers:  # connect and load the script first: a slot is read on arrival
        await pacer.chat_ready_at("warm-up", "private")
    return clients, pacers


async def test_two_workers_draw_slots_from_one_schedule(redis_server: RedisForTest) -> None:
    clients = [Redis.from_url(redis_server.url) for _ in range(2)]
    a, b = (SharedChannelPacer(c, redis_server.namespace, LIMITS) for c in clients)
    try:
        for pacer in (a, b):  # connect and load the script first: a slot is read on arrival
            await pacer.chat_ready_at("warm-up", "private")
        slots = []
        for i in range(20):  # twenty different chats: only the bot's overall limit applies
            slots.append(await (a if i % 2 else b).reserve(str(1000 + i), "private"))
    finally:
        for c in clients:
            await c.aclose()
    slots.sort()
    gaps = [later - earlier for earlier, later in zip(slots, slots[1:], strict=False)]
    assert min(gaps) >= 0.5 - JITTER  # 2 msg/s for the two together, not 2 each
    assert slots[-1] - slots[0] >= 19 * 0.5 - JITTER


async def test_one_chat_is_paced_across_workers(redis_server: RedisForTest) -> None:
    clients, (a, b) = await two_workers(redis_server)
    try:
        first = await a.reserve("42", "private")
        waiting = await b.chat_ready_at("42", "private")
        second = await b.reserve("42", "private")
        group_first = await b.reserve("-42", "group")
        group_second = await a.reserve("-42", "group")
    finally:
        for c in clients:
            await c.aclose()
    assert waiting == pytest.approx(first + 1.0, abs=JITTER)  # 1 msg/s in a private chat
    assert second - first >= 1.0 - JITTER
    assert group_second - group_first >= 10.0 - JITTER  # 6/min in a group


def test_in_process_pacers_alone_would_double_the_rate() -> None:
    """Why the shared pacer exists: two workers with their own buckets take the same slots."""
    a, b = ChannelPacer(LIMITS, lambda: 100.0), ChannelPacer(LIMITS, lambda: 100.0)
    slots = sorted([a.reserve(str(i), "private") for i in range(10)]
                   + [b.reserve(str(i + 10), "private") for i in range(10)])
    assert slots[19] - slots[0] < 19 / 2  # 20 messages in the time 10 are allowed


async def test_without_redis_the_pacer_falls_back_to_its_own_buckets() -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    pacer = SharedChannelPacer(dead, "nowhere", LIMITS)
    try:
        first = await pacer.reserve("7", "private")
        second = await pacer.reserve("7", "private")
    finally:
        await dead.aclose()
    assert second - first == pytest.approx(1.0)  # still paced, by this worker alone


def test_namespaces_name_the_bot_not_its_token() -> None:
    one = token_namespace("telegram", "123:SECRET")
    assert one == token_namespace("telegram", "123:SECRET")
    assert one != token_namespace("telegram", "456:OTHER")
    assert "SECRET" not in one and one.startswith("telegram:")


# --- three dispatchers on PostgreSQL, one bot token --------------------------------------------

# FakeTelegram and the pacers both at 15 msg/s overall: low enough that three unshared
# dispatchers exceed it even on a loaded 2-core machine (the control below), and the shared run
# still takes only 8 s.
SCALE = 0.5
RECIPIENTS = 120


async def queue_broadcast(db: Database, n: int) -> None:
    async with db.sessions() as session, session.begin():
        for i in range(n):
            await outbox.enqueue(
                session, dedupe_key=f"b:{i}", channel="telegram", chat_id=str(5000 + i),
                payload=Outbound(f"Tin {i}").to_payload(), not_before=TEST_START,
            )


async def three_dispatchers(db_url: str, fake: FakeTelegram, clock, pacing) -> list[Dispatcher]:  # noqa: ANN001
    settings = load_settings(None, env={})
    telegram = replace(settings.telegram, token=fake.token, api_base_url=fake.bot_api_url)
    workers = []
    for name in "abc":
        db = open_database(db_url)
        sender = TelegramSender.from_settings(replace(settings, telegram=telegram))
        workers.append(Dispatcher(
            db, {"telegram": sender}, clock, name, batch_size=16,
            limits={"telegram": TELEGRAM_LIMITS.scaled(SCALE)},
            pacer_factory=pacing() if pacing else None,
        ))
    return workers


async def run_all(workers: list[Dispatcher]) -> None:
    try:
        await asyncio.gather(*(w.drain(timeout=60) for w in workers))
    finally:
        for w in workers:
            await w.senders["telegram"].close()
            await w.db.close()


async def test_three_dispatchers_share_one_limit_without_a_429(
    db_url: str, clock, redis_server: RedisForTest  # noqa: ANN001
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several dispatchers need PostgreSQL (FOR UPDATE SKIP LOCKED)")
    db = open_database(db_url)
    await queue_broadcast(db, RECIPIENTS)
    await db.close()
    clients: list[Redis] = []

    def pacing() -> SharedPacing:  # each worker its own connection, like separate processes
        clients.append(Redis.from_url(redis_server.url))
        return SharedPacing(clients[-1], {"telegram": f"telegram:{redis_server.namespace}"})

    async with FakeTelegram(flood_limits=FloodLimits(scale=SCALE)) as fake:
        workers = await three_dispatchers(db_url, fake, clock, pacing)
        try:
            await run_all(workers)
        finally:
            for c in clients:
                await c.aclose()
        limited = sum(1 for c in fake.calls if c.status == 429)
        per_chat = Counter(int(c.params["chat_id"]) for c in fake.calls
                           if c.method.lower() == "sendmessage" and c.status == 200)
    assert limited == 0
    assert len(per_chat) == RECIPIENTS and set(per_chat.values()) == {1}
    assert all(w.stats["sent"] > 0 for w in workers), "every worker should have sent some"


async def test_three_dispatchers_with_their_own_buckets_trip_the_limit(
    db_url: str, clock  # noqa: ANN001
) -> None:
    """The same run without Redis: each worker paces alone, together they go 3x too fast."""
    if not db_url.startswith("postgresql"):
        pytest.skip("several dispatchers need PostgreSQL (FOR UPDATE SKIP LOCKED)")
    db = open_database(db_url)
    await queue_broadcast(db, RECIPIENTS)
    await db.close()
    async with FakeTelegram(flood_limits=FloodLimits(scale=SCALE)) as fake:
        await run_all(await three_dispatchers(db_url, fake, clock, None))
        limited = sum(1 for c in fake.calls if c.status == 429)
    assert limited > 0


async def test_a_429_seen_by_one_worker_pauses_the_others(redis_server: RedisForTest) -> None:
    clients, (a, b) = await two_workers(redis_server)
    try:
        paused_at = a.now()
        await a.pause(None, 2.0)  # the whole bot was told "retry after"
        whole = await b.reserve("77", "private")
        chat_paused_at = b.now()
        await b.pause("78", 3.0)  # only that chat
        chat_slot = await a.reserve("78", "private")
        other_chat = await a.chat_ready_at("79", "private")
    finally:
        for c in clients:
            await c.aclose()
    assert whole >= paused_at + 2.0 - JITTER  # b held back by the 429 that a saw
    assert chat_slot >= chat_paused_at + 3.0 - JITTER
    assert other_chat < chat_paused_at + 3.0 - JITTER  # other chats are not held by it
