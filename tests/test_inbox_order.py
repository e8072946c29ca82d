"""Per-chat order across workers, through the database (issue 21 item 2).

Two inbox pumps on one database stand for two `healthbot run` workers behind a load balancer:
each has its own worker id, its own per-process turns and its own runners; only the database is
shared. One resident's consecutive messages are received alternately by the two, as a round-robin
proxy spreads them. The platform side (the adapter: reading an update, sending the replies) is a
recorder that takes a random while, so two workers handling one chat at once would interleave.
The bot itself (`HealthBot.handle`, the inbox rows, the claims) is the real one.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

from bot.channels.inbox_pump import InboxPump
from bot.model import TELEGRAM, Inbound, Outbound
from storage import inbox

CHATS = [f"70{n:02d}" for n in range(12)]
MESSAGES = 6


class Platform:
    """What the residents see: every delivery, in the order it completed."""

    def __init__(self, seed: int) -> None:
        self.delivered: list[tuple[str, int, str]] = []  # chat, message number, worker
        self.random = random.Random(seed)

    def adapter(self, worker: str) -> Recorder:
        return Recorder(self, worker)


class Recorder:
    def __init__(self, platform: Platform, worker: str) -> None:
        self.platform = platform
        self.worker = worker

    def inbound_of(self, payload: dict[str, Any]) -> Inbound | None:
        return Inbound(channel="telegram", chat_id=payload["chat"], user_id=payload["chat"],
                       text="/menu", message_id=str(payload["n"]))

    async def prepare(self, inbound: Inbound, payload: dict[str, Any]) -> Inbound:
        await asyncio.sleep(self.platform.random.uniform(0, 0.01))
        return inbound

    async def deliver(self, inbound: Inbound, replies: list[Outbound]) -> None:
        await asyncio.sleep(self.platform.random.uniform(0, 0.02))
        assert replies
        self.platform.delivered.append((inbound.chat_id, int(inbound.message_id or -1),
                                        self.worker))


def arrival(chat: str, n: int) -> inbox.Arrival:
    return inbox.Arrival(f"{chat}:{n}", chat, {"chat": chat, "n": n})


async def drained(healthbot: Any, *pumps: InboxPump) -> None:
    for _ in range(200):
        for pump in pumps:
            await pump.drain(30)
        async with healthbot.services.db.sessions() as session:
            if await inbox.unfinished_count(session, "telegram") == 0:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the inbox was not drained")


async def test_one_chats_updates_split_over_two_workers_are_handled_in_order(
    healthbot: Any,
) -> None:
    platform = Platform(seed=21)
    pumps = [InboxPump(healthbot, "telegram", TELEGRAM, platform.adapter(name), worker=name)
             for name in ("worker-a:8080", "worker-b:8080")]

    async def resident(index: int, chat: str) -> None:
        for n in range(MESSAGES):  # the platform waits for each 200 before the next update
            if n == MESSAGES // 2:
                # The resident pauses mid-way (reads the answers): the chat is idle, so the worker
                # that receives the next message takes it. Without a pause one worker may keep a
                # busy chat to itself, and the split asserted below would not be exercised.
                while sum(1 for c, *_ in platform.delivered if c == chat) < n:
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.2)
            await pumps[(index + n) % 2].receive([arrival(chat, n)])
            await asyncio.sleep(platform.random.uniform(0, 0.005))

    await asyncio.gather(*(resident(i, chat) for i, chat in enumerate(CHATS)))
    await drained(healthbot, *pumps)

    for chat in CHATS:
        got = [n for c, n, _ in platform.delivered if c == chat]
        assert got == list(range(MESSAGES)), f"chat {chat}: answered in the order {got}"
    workers_per_chat = {chat: {w for c, _, w in platform.delivered if c == chat} for chat in CHATS}
    assert any(len(w) == 2 for w in workers_per_chat.values()), "a chat was split over workers"
    assert all(pump.stats["failed"] == 0 for pump in pumps)


async def test_a_dead_workers_chat_waits_for_its_lease_then_is_taken_over_in_order(
    healthbot: Any, clock: Any
) -> None:
    """A worker claimed a chat's update and died: the chat's next update, received by a live
    worker, is not handled before it; once the claim is older than the lease, the live worker's
    sweep takes the chat over and answers both, in order."""
    platform = Platform(seed=7)
    lease = timedelta(seconds=5)
    live = InboxPump(healthbot, "telegram", TELEGRAM, platform.adapter("live:8080"),
                     worker="live:8080", lease=lease)
    async with healthbot.services.db.sessions() as session, session.begin():
        await inbox.receive(session, "telegram", [arrival("7100", 0)], worker_id="dead:8080",
                            now=clock())
        held = await inbox.take_next(session, "telegram", "7100", worker_id="dead:8080",
                                     now=clock(), lease=lease)
    assert held is not None and held.update_key == "7100:0"

    await live.receive([arrival("7100", 1)])
    await live.drain(10)
    assert await live.resume() == 0  # the claim is fresh: its holder may be alive
    await live.drain(10)
    assert platform.delivered == []

    clock.advance(seconds=6)
    assert await live.resume() == 1
    await drained(healthbot, live)
    assert [(c, n) for c, n, _ in platform.delivered] == [("7100", 0), ("7100", 1)]
