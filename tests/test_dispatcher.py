"""The outbox dispatcher against a recording channel: order, retries, blocked chats, migration,
crash recovery and (PostgreSQL) two dispatchers sharing one outbox."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.model import Outbound
from scheduler.dispatcher import Dispatcher
from scheduler.pacing import ChannelLimits
from scheduler.sender import SendError, SendResult
from storage import outbox, people
from storage.db import Database, open_database
from storage.models import Chat, Outbox
from tests.conftest import TEST_START

FAST = {"telegram": ChannelLimits()}  # no pacing: these tests are about outcomes, not rates


class RecordingChannel:
    """A Sender that records what was delivered and fails on cue, like a platform would."""

    channel = "telegram"

    def __init__(self) -> None:
        self.delivered: list[tuple[str, str]] = []  # (chat id, text), in delivery order
        self.script: dict[str, list[SendError]] = {}
        self.gate: asyncio.Event | None = None  # when set: sends wait here (to simulate a kill)
        self.started = 0

    async def send(self, chat_id: str, message: Outbound, *, chat_kind: str = "private"
                   ) -> SendResult:
        self.started += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.script.get(chat_id):
            raise self.script[chat_id].pop(0)
        self.delivered.append((chat_id, message.text))
        return SendResult(message_id=str(len(self.delivered)))


async def queue(db: Database, *rows: tuple[str, str, int], chat_kind: str = "private") -> None:
    """Queue (dedupe key, chat id, priority) rows with the text = dedupe key."""
    async with db.sessions() as session, session.begin():
        for key, chat_id, priority in rows:
            await outbox.enqueue(
                session, dedupe_key=key, channel="telegram", chat_id=chat_id,
                payload=Outbound(key).to_payload(), priority=priority, chat_kind=chat_kind,
                not_before=TEST_START,
            )


async def row(db: Database, key: str) -> Outbox:
    async with db.sessions() as session:
        return (await session.execute(select(Outbox).where(Outbox.dedupe_key == key))).scalar_one()


@pytest.fixture
async def db(db_url: str):  # noqa: ANN201
    database = open_database(db_url)
    yield database
    await database.close()


async def test_replies_go_before_bulk_and_every_outcome_is_recorded(db, clock) -> None:
    await queue(db, *[(f"bulk-{i}", str(100 + i), outbox.PRIORITY_CAMPAIGN) for i in range(5)])
    await queue(db, ("reply", "999", outbox.PRIORITY_REPLY))
    channel = RecordingChannel()
    dispatcher = Dispatcher(db, {"telegram": channel}, clock, "w1", limits=FAST, batch_size=3)
    assert await dispatcher.run_once() == 3
    assert channel.delivered[0] == ("999", "reply")
    await dispatcher.drain()
    assert len(channel.delivered) == 6
    sent = await row(db, "reply")
    assert (sent.status, sent.attempts, sent.sent_at, sent.sent_message_id) == (
        "sent", 1, clock.now, "1")


async def test_retry_after_is_honoured_for_that_chat(db, clock) -> None:
    await queue(db, ("a", "201", 5), ("b", "202", 5))
    channel = RecordingChannel()
    channel.script["201"] = [SendError("retry", "rate limited", retry_after=30)]
    dispatcher = Dispatcher(db, {"telegram": channel}, clock, "w1", limits=FAST)
    await dispatcher.drain()
    assert channel.delivered == [("202", "b")]
    waiting = await row(db, "a")
    assert waiting.status == "pending" and waiting.attempts == 1
    assert waiting.not_before == clock.now + timedelta(seconds=30)
    clock.advance(seconds=29)
    await dispatcher.drain()
    assert channel.delivered == [("202", "b")]  # not before retry_after has passed
    clock.advance(seconds=2)
    await dispatcher.drain()
    assert channel.delivered[-1] == ("201", "a")
    assert (await row(db, "a")).status == "sent"


async def test_network_errors_back_off_then_fail_after_max_attempts(db, clock) -> None:
    await queue(db, ("flaky", "301", 5))
    channel = RecordingChannel()
    channel.script["301"] = [SendError("retry", "network")] * 3
    dispatcher = Dispatcher(db, {"telegram": channel}, clock, "w1", limits=FAST, max_attempts=3)
    waits = []
    for _ in range(3):
        await dispatcher.drain()
        current = await row(db, "flaky")
        waits.append(current.not_before - clock.now)
        clock.now = max(clock.now, current.not_before)
    failed = await row(db, "flaky")
    assert failed.status == "failed" and failed.attempts == 3
    assert "network" in (failed.last_error or "")
    assert waits[1] > waits[0]  # exponential backoff between the tries
    assert channel.delivered == []


async def test_blocked_recipient_is_marked_and_never_tried_again(db, clock) -> None:
    async with db.sessions() as session, session.begin():
        await people.ensure_chat(session, "telegram", "401", "private", None)
    await queue(db, ("first", "401", 5))
    channel = RecordingChannel()
    channel.script["401"] = [SendError("stop", "blocked")]
    dispatcher = Dispatcher(db, {"telegram": channel}, clock, "w1", limits=FAST)
    await dispatcher.drain()
    first = await row(db, "first")
    assert first.status == "failed" and first.last_error == "stop: blocked"
    async with db.sessions() as session:
        chat = await people.find_chat(session, "telegram", "401")
        assert chat is not None and chat.unreachable_reason == "blocked"
    started = channel.started
    await queue(db, ("second", "401", 5))
    await dispatcher.drain()
    assert channel.started == started  # skipped without a call to the platform
    assert (await row(db, "second")).last_error.startswith("skipped: chat unreachable")


async def test_migrated_group_is_followed_and_resent_once(db, clock) -> None:
    async with db.sessions() as session, session.begin():
        chat = await people.ensure_chat(session, "telegram", "-501", "group", None)
        chat.area_code = "TDP1"
    await queue(db, ("news", "-501", 5), chat_kind="group")
    channel = RecordingChannel()
    channel.script["-501"] = [SendError("migrated", "upgraded", new_chat_id="-100501")]
    dispatcher = Dispatcher(db, {"telegram": channel}, clock, "w1", limits=FAST)
    await dispatcher.drain()
    assert channel.delivered == [("-100501", "news")]
    moved = await row(db, "news")
    assert (moved.status, moved.chat_id) == ("sent", "-100501")
    async with db.sessions() as session:
        chat = await people.find_chat(session, "telegram", "-100501")
        assert chat is not None and chat.area_code == "TDP1"


async def test_kill_mid_dispatch_then_restart_sends_each_message_once(db, clock) -> None:
    total = 40
    await queue(db, *[(f"m{i}", str(600 + i), 9) for i in range(total)])
    channel = RecordingChannel()
    first = Dispatcher(db, {"telegram": channel}, clock, "killed", limits=FAST, batch_size=8,
                       max_in_flight=8)
    stop = asyncio.Event()
    task = asyncio.create_task(first.run_forever(stop))
    while len(channel.delivered) < total // 2:
        await asyncio.sleep(0.005)
    channel.gate = asyncio.Event()  # the next sends hang, as at a SIGKILL mid-request
    while channel.started <= len(channel.delivered):
        await asyncio.sleep(0.005)
    task.cancel()  # the process dies: no clean shutdown, rows stay 'sending'
    with pytest.raises(asyncio.CancelledError):
        await task
    channel.gate = None
    async with db.sessions() as session:
        stuck = (await session.execute(
            select(Outbox).where(Outbox.status == "sending"))).scalars().all()
    assert stuck, "the kill should leave claimed rows behind"
    clock.advance(minutes=6)  # past the lease
    second = Dispatcher(db, {"telegram": channel}, clock, "restarted", limits=FAST)
    await second.drain()
    counts = Counter(chat for chat, _ in channel.delivered)
    assert len(counts) == total
    assert set(counts.values()) == {1}
    async with db.sessions() as session:
        statuses = Counter((await session.execute(select(Outbox.status))).scalars())
    assert statuses == {"sent": total}


async def test_two_dispatchers_on_postgresql_never_send_the_same_row(db, clock, db_url) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite runs a single dispatcher: FOR UPDATE SKIP LOCKED is PostgreSQL's")
    total = 400
    await queue(db, *[(f"r{i}", str(700 + i), 9) for i in range(total)])
    channel = RecordingChannel()
    other_db = open_database(db_url)  # a second worker: its own engine and connections
    try:
        workers = [
            Dispatcher(db, {"telegram": channel}, clock, "a", limits=FAST, batch_size=16),
            Dispatcher(other_db, {"telegram": channel}, clock, "b", limits=FAST, batch_size=16),
        ]
        await asyncio.gather(*(w.drain(timeout=60) for w in workers))
    finally:
        await other_db.close()
    counts = Counter(chat for chat, _ in channel.delivered)
    assert len(counts) == total and set(counts.values()) == {1}
    assert all(w.stats["sent"] > 0 for w in workers), "both workers should have taken rows"
    async with db.sessions() as session:
        holders = Counter((await session.execute(select(Outbox.claimed_by))).scalars())
    assert set(holders) == {"a", "b"}


async def test_rows_for_unknown_channels_and_future_rows_wait(db, clock) -> None:
    await queue(db, ("later", "801", 5))
    async with db.sessions() as session, session.begin():
        await outbox.enqueue(session, dedupe_key="zalo", channel="zalo_bot", chat_id="z1",
                             payload=Outbound("z").to_payload(), not_before=clock.now)
        later = (await session.execute(
            select(Outbox).where(Outbox.dedupe_key == "later"))).scalar_one()
        later.not_before = clock.now + timedelta(hours=1)
    channel = RecordingChannel()
    dispatcher = Dispatcher(db, {"telegram": channel}, clock, "w1", limits=FAST)
    assert await dispatcher.run_once() == 0
    clock.advance(hours=1)
    assert await dispatcher.run_once() == 1
    assert (await row(db, "zalo")).status == "pending"  # no Zalo sender here: left for its worker


async def test_unreachable_chat_rows_count_as_handled(db, clock) -> None:
    async with db.sessions() as session, session.begin():
        session.add(Chat(channel="telegram", external_id="901", kind="group", active=False,
                         unreachable_reason="removed"))
    await queue(db, ("gone", "901", 9), chat_kind="group")
    channel = RecordingChannel()
    dispatcher = Dispatcher(db, {"telegram": channel}, clock, "w1", limits=FAST)
    assert await dispatcher.run_once() == 1
    assert channel.started == 0
    assert (await row(db, "gone")).status == "failed"


async def test_a_restarted_worker_with_the_same_id_resumes_its_rows_at_once(db, clock) -> None:
    await queue(db, *[(f"s{i}", str(1000 + i), 9) for i in range(6)])
    channel = RecordingChannel()
    channel.gate = asyncio.Event()  # every send hangs: the process is killed mid-request
    first = Dispatcher(db, {"telegram": channel}, clock, "host:8080", limits=FAST)
    task = asyncio.create_task(first.run_forever(asyncio.Event()))
    while channel.started < 6:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    channel.gate = None
    # A stranger waits for the lease; the same worker id (same host and port) does not.
    await Dispatcher(db, {"telegram": channel}, clock, "other", limits=FAST).drain()
    assert channel.delivered == []
    await Dispatcher(db, {"telegram": channel}, clock, "host:8080", limits=FAST).drain()
    assert sorted(chat for chat, _ in channel.delivered) == [str(1000 + i) for i in range(6)]
    resumed = await row(db, "s0")
    assert resumed.attempts == 2 and resumed.status == "sent"  # the lost try is counted


async def test_a_429_for_a_quiet_chat_pauses_the_whole_channel(db, clock) -> None:
    # With Telegram's limits on, the dispatcher had sent nothing to 1101: the 429 can only be the
    # bot's overall limit, so every chat waits retry_after, not just this one.
    await queue(db, ("first", "1101", 5))
    channel = RecordingChannel()
    channel.script["1101"] = [SendError("retry", "rate limited", retry_after=20)]
    dispatcher = Dispatcher(db, {"telegram": channel}, clock, "w1")
    await dispatcher.drain()
    await queue(db, ("other", "1102", 5))
    await dispatcher.drain()
    assert channel.delivered == []
    assert (await row(db, "other")).not_before == clock.now + timedelta(seconds=20)
    clock.advance(seconds=21)
    await dispatcher.drain()
    assert sorted(chat for chat, _ in channel.delivered) == ["1101", "1102"]


async def test_a_429_for_a_busy_chat_pauses_only_that_chat(db, clock) -> None:
    await queue(db, ("one", "1201", 5))
    channel = RecordingChannel()
    dispatcher = Dispatcher(db, {"telegram": channel}, clock, "w1")
    await dispatcher.drain()
    await asyncio.sleep(1.05)  # Telegram's 1 msg/s for a private chat, in real time
    channel.script["1201"] = [SendError("retry", "rate limited", retry_after=20)]
    await queue(db, ("two", "1201", 5), ("elsewhere", "1202", 5))
    await dispatcher.drain()
    assert channel.delivered == [("1201", "one"), ("1202", "elsewhere")]
    assert (await row(db, "two")).status == "pending"


async def test_a_malformed_message_fails_alone_and_the_chat_stays_reachable(db, clock) -> None:
    async with db.sessions() as session, session.begin():
        await people.ensure_chat(session, "telegram", "1301", "private", None)
    await queue(db, ("bad", "1301", 5))
    channel = RecordingChannel()
    channel.script["1301"] = [SendError("stop", "bad_request")]
    dispatcher = Dispatcher(db, {"telegram": channel}, clock, "w1", limits=FAST)
    await dispatcher.drain()
    assert (await row(db, "bad")).status == "failed"
    await queue(db, ("good", "1301", 5))
    await dispatcher.drain()
    assert channel.delivered == [("1301", "good")]
