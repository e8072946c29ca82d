"""The planner with a fake clock: lunar-anchored campaigns fire on the right days, quiet hours hold
ordinary messages, missed firings are sent once within the grace period, a crash mid-firing sends
each message exactly once, and on PostgreSQL only one instance fires."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from content.library import load_library
from scheduler.dispatcher import Dispatcher
from scheduler.occurrences import VN_TZ, next_occurrences_after
from scheduler.pacing import ChannelLimits
from scheduler.plan import load_plan
from scheduler.planner import Planner
from storage import people
from storage.db import open_database
from storage.models import BroadcastRecord, Chat, Outbox, Person
from tests.test_dispatcher import RecordingChannel

FAST = {"telegram": ChannelLimits()}
LIBRARY = load_library()


def utc(y: int, m: int, d: int, h: int = 0, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=UTC)


@pytest.fixture
async def db(db_url: str):  # noqa: ANN201
    database = open_database(db_url)
    yield database
    await database.close()


@pytest.fixture
async def planners():  # noqa: ANN201
    """Planners made in a test; stopped at the end (on PostgreSQL they hold the lock)."""
    made: list[Planner] = []
    yield made
    for planner in made:
        await planner.stop()


async def restart(old: Planner | None, *args, made: list[Planner]) -> Planner:  # noqa: ANN002
    """Stop a planner (its process ends: the lock connection closes) and start a new one."""
    if old is not None:
        await old.stop()
    planner = Planner(*args)
    made.append(planner)
    return planner


async def add_group(db, chat_id: str, area: str) -> None:  # noqa: ANN001
    async with db.sessions() as session, session.begin():
        chat = await people.ensure_chat(session, "telegram", chat_id, "group", None)
        chat.area_code = area


async def add_subscriber(db, chat_id: str, topics: list[str], area: str | None = None,  # noqa: ANN001
                         locale: str = "vi") -> int:
    async with db.sessions() as session, session.begin():
        person = Person(locale=locale, area_code=area)
        session.add(person)
        await session.flush()
        await people.ensure_chat(session, "telegram", chat_id, "private", person.id)
        for topic in topics:
            await people.subscribe(session, person.id, topic)
        return person.id


def write_plan(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text("version: 1\ncampaigns:\n" + body, encoding="utf-8")
    return path


async def run_plan_until(planner: Planner, clock, end: datetime) -> None:  # noqa: ANN001
    """What the APScheduler date job does: wake at each next occurrence and fire."""
    await planner.fire_due()
    while True:
        upcoming = next_occurrences_after(planner.plan, clock.now, quiet=planner.quiet)
        if not upcoming or upcoming[0].at > end:
            break
        clock.now = upcoming[0].at.astimezone(UTC)
        await planner.fire_due()


@pytest.mark.parametrize(
    ("tet_year", "start", "expected"),
    [
        (2026, utc(2026, 1, 20), ["02/02", "05/02", "09/02", "12/02", "16/02", "19/02"]),
        (2027, utc(2027, 1, 10), ["25/01", "28/01", "01/02", "04/02", "08/02"]),
    ],
)
async def test_food_safety_campaign_follows_tet(db, settings, clock, tet_year, start, expected,
                                                planners) -> None:
    # Tết 2026 is 17/02, Tết 2027 is 06/02: the campaign runs from 15 days before to the 5th day
    # of Tết, Mondays and Thursdays at 09:00 Vietnam time.
    await add_group(db, "-1001", "TDP1")
    clock.now = start
    planner = await restart(None, db, settings, LIBRARY, load_plan(), clock, made=planners)
    await run_plan_until(planner, clock, start + timedelta(days=45))
    async with db.sessions() as session:
        rows = (await session.execute(
            select(Outbox).where(Outbox.campaign_id == "food-safety-tet").order_by(Outbox.id)
        )).scalars().all()
    local = [r.not_before.astimezone(VN_TZ) for r in rows]
    assert [f"{t:%d/%m}" for t in local] == expected
    assert {f"{t:%H:%M}" for t in local} == {"09:00"}
    assert all(r.chat_id == "-1001" for r in rows)
    assert "An toàn thực phẩm" in rows[0].payload["text"] or "thực phẩm" in rows[0].payload["text"]
    assert "Nguồn" in rows[0].payload["text"]  # the library message keeps its source line


async def test_nothing_ordinary_is_sent_in_quiet_hours(db, settings, clock, tmp_path, planners
                                                       ) -> None:
    plan = load_plan(write_plan(tmp_path, """
  - id: late-news
    topic: dengue
    window: {fixed: {start: "2026-11-23", end: "2026-11-25"}}
    rhythm: {daily: {time: "22:30"}}
    audience: {groups: all}
    messages: [dengue.prevention]
  - id: outbreak
    topic: dengue
    urgent: true
    window: {fixed: {start: "2026-11-23", end: "2026-11-23"}}
    rhythm: {once: {time: "23:15"}}
    audience: {groups: all}
    messages: [dengue.warning-signs]
"""))
    await add_group(db, "-2001", "TDP1")
    clock.now = utc(2026, 11, 23, 0)  # 07:00 in Vietnam
    channel = RecordingChannel()
    sent_at: list[datetime] = []
    original = channel.send

    async def timed_send(chat_id, message, *, chat_kind="private"):  # noqa: ANN001, ANN202
        result = await original(chat_id, message, chat_kind=chat_kind)
        sent_at.append(clock.now)
        return result

    channel.send = timed_send  # type: ignore[method-assign]
    planner = await restart(None, db, settings, LIBRARY, plan, clock, made=planners)
    dispatcher = Dispatcher(db, {"telegram": channel}, clock, "w", limits=FAST)
    for _ in range(3 * 24 * 4 + 4):  # three days and an hour, in 15-minute steps
        await planner.fire_due()
        await dispatcher.drain()
        clock.advance(minutes=15)
    warning_title = LIBRARY.entry("dengue.warning-signs").title("vi")
    sends = [(t.astimezone(VN_TZ), text) for t, (_, text) in
             zip(sent_at, channel.delivered, strict=True)]
    ordinary = [t for t, text in sends if warning_title not in text]
    urgent = [t for t, text in sends if warning_title in text]
    assert len(sends) == 4  # three held news messages and one urgent alert
    assert [f"{t:%d/%m %H:%M}" for t in ordinary] == ["24/11 07:00", "25/11 07:00", "26/11 07:00"]
    assert [f"{t:%d/%m %H:%M}" for t in urgent] == ["23/11 23:15"]  # urgent passes quiet hours


async def test_missed_firing_is_sent_once_within_grace_and_skipped_after(
        db, settings, clock, tmp_path, planners) -> None:
    plan = load_plan(write_plan(tmp_path, """
  - id: weekly
    topic: dengue
    window: {fixed: {start: "2026-11-23", end: "2026-11-30"}}
    rhythm: {weekly: {days: [mon, tue], time: "08:00"}}
    audience: {groups: all}
    messages: [dengue.prevention]
"""))
    await add_group(db, "-3001", "TDP1")
    settings = replace(settings, broadcast=replace(settings.broadcast, missed_grace_hours=12))
    clock.now = utc(2026, 11, 22, 12)
    planner = await restart(None, db, settings, LIBRARY, plan, clock, made=planners)
    await planner.fire_due()  # first start: sets the mark
    # Down from Sunday until Monday 13:00 (08:00 firing 5 h late): sent once on coming back.
    clock.now = utc(2026, 11, 23, 6)
    restarted = await restart(planner, db, settings, LIBRARY, plan, clock, made=planners)
    report = await restarted.fire_due()
    assert report.fired == ["campaign:weekly:2026-11-23T08:00"]
    assert (await restarted.fire_due()).fired == []
    # Down again until Tuesday 22:00 local: Tuesday 08:00 was missed by 14 h, beyond the grace.
    clock.now = utc(2026, 11, 24, 15)
    again = await restart(restarted, db, settings, LIBRARY, plan, clock, made=planners)
    report = await again.fire_due()
    assert report.skipped == ["campaign:weekly:2026-11-24T08:00"] and report.fired == []
    async with db.sessions() as session:
        records = (await session.execute(
            select(BroadcastRecord.status).order_by(BroadcastRecord.scheduled_at))).scalars().all()
        rows = (await session.execute(select(Outbox))).scalars().all()
    assert records == ["queued", "skipped"]
    assert len(rows) == 1


async def test_audience_is_resolved_at_firing_time(db, settings, clock, tmp_path, planners
                                                   ) -> None:
    plan = load_plan(write_plan(tmp_path, """
  - id: subs
    topic: dengue
    window: {fixed: {start: "2026-11-23", end: "2026-11-30"}}
    rhythm: {daily: {time: "08:00"}}
    audience: {groups: [TDP1], subscribers_of: dengue}
    messages: [dengue.prevention]
"""))
    await add_group(db, "-4001", "TDP1")
    await add_group(db, "-4002", "TDP2")
    keen = await add_subscriber(db, "41", ["dengue"])
    await add_subscriber(db, "42", ["flu"])
    await add_subscriber(db, "43", ["dengue"], locale="en")
    staff = replace(settings.feedback, staff_chat="telegram:-4001")
    clock.now = utc(2026, 11, 22, 12)
    planner = await restart(None, db, settings, LIBRARY, plan, clock, made=planners)
    await planner.fire_due()
    clock.now = utc(2026, 11, 23, 1)
    await planner.fire_due()
    async with db.sessions() as session, session.begin():
        await people.unsubscribe_all(session, keen)  # /huy on Monday evening
    planner.settings = replace(settings, feedback=staff)  # and -4001 becomes the staff chat
    clock.now = utc(2026, 11, 24, 1)
    await planner.fire_due()
    async with db.sessions() as session:
        rows = (await session.execute(select(Outbox).order_by(Outbox.id))).scalars().all()
    monday = sorted(r.chat_id for r in rows if "2026-11-23" in r.dedupe_key)
    tuesday = sorted(r.chat_id for r in rows if "2026-11-24" in r.dedupe_key)
    assert monday == ["-4001", "41", "43"]
    assert tuesday == ["43"]
    english = next(r for r in rows if r.chat_id == "43")
    assert "Health news" in english.payload["text"]


async def test_crash_in_the_middle_of_a_firing_sends_every_message_exactly_once(
        db, settings, clock, tmp_path, planners) -> None:
    body = """
  - id: first
    topic: dengue
    window: {fixed: {start: "2026-11-23", end: "2026-11-23"}}
    rhythm: {once: {time: "08:00"}}
    audience: {groups: all}
    messages: [dengue.prevention]
  - id: second
    topic: flu
    window: {fixed: {start: "2026-11-23", end: "2026-11-23"}}
    rhythm: {once: {time: "08:00"}}
    audience: {groups: all}
    messages: [MESSAGE]
"""
    for i in range(30):
        await add_group(db, f"-50{i:02d}", "TDP1")
    clock.now = utc(2026, 11, 22, 12)
    plan_dir = tmp_path / "p"
    plan_dir.mkdir()
    broken = load_plan(write_plan(plan_dir, body.replace("MESSAGE", "no.such-entry")))
    planner = await restart(None, db, settings, LIBRARY, broken, clock, made=planners)
    await planner.fire_due()
    clock.now = utc(2026, 11, 23, 1, 5)
    with pytest.raises(KeyError):  # the process dies while firing the second campaign
        await planner.fire_due()
    channel = RecordingChannel()
    first = Dispatcher(db, {"telegram": channel}, clock, "a", limits=FAST, batch_size=5,
                       max_in_flight=5)
    task = asyncio.create_task(first.run_forever(asyncio.Event()))
    while len(channel.delivered) < 12:
        await asyncio.sleep(0.002)
    task.cancel()  # and the dispatcher is killed half-way through the first campaign
    with pytest.raises(asyncio.CancelledError):
        await task
    clock.advance(minutes=10)
    fixed = load_plan(write_plan(plan_dir, body.replace("MESSAGE", "flu.prevention")))
    planner = await restart(planner, db, settings, LIBRARY, fixed, clock, made=planners)
    report = await planner.fire_due()
    assert report.fired == ["campaign:second:2026-11-23T08:00"]
    await Dispatcher(db, {"telegram": channel}, clock, "b", limits=FAST).drain()
    per_chat = Counter(chat for chat, _ in channel.delivered)
    assert len(per_chat) == 30 and set(per_chat.values()) == {2}  # both campaigns, once each


async def test_only_one_planner_fires_on_postgresql(db, settings, clock, db_url, tmp_path
                                                    ) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite runs a single instance; the advisory lock is PostgreSQL's")
    plan = load_plan(write_plan(tmp_path, """
  - id: daily
    topic: dengue
    window: {fixed: {start: "2026-11-23", end: "2026-11-30"}}
    rhythm: {daily: {time: "08:00"}}
    audience: {groups: all}
    messages: [dengue.prevention]
"""))
    await add_group(db, "-6001", "TDP1")
    other = open_database(db_url)
    clock.now = utc(2026, 11, 22, 12)
    a = Planner(db, settings, LIBRARY, plan, clock)
    b = Planner(other, settings, LIBRARY, plan, clock)
    try:
        await a.fire_due()
        assert await a.is_leader() and not await b.is_leader()
        clock.now = utc(2026, 11, 23, 1)
        reports = await asyncio.gather(a.fire_due(), b.fire_due())
        assert [len(r.fired) for r in reports] == [1, 0]
        await a.stop()  # the leader goes away: the other takes over at its next tick
        clock.now = utc(2026, 11, 24, 1)
        assert (await b.fire_due()).fired == ["campaign:daily:2026-11-24T08:00"]
    finally:
        await a.stop()
        await b.stop()
        await other.close()
    async with db.sessions() as session:
        assert len((await session.execute(select(Outbox))).scalars().all()) == 2


async def test_scheduler_arms_a_job_at_the_next_occurrence(db, settings, planners) -> None:
    planner = await restart(None, db, settings, LIBRARY, load_plan(), made=planners)
    scheduler = planner.start()
    try:
        for _ in range(200):
            if scheduler.get_job("planner-next") is not None:
                break
            await asyncio.sleep(0.01)
        job = scheduler.get_job("planner-next")
        expected = next_occurrences_after(planner.plan, datetime.now(UTC), quiet=planner.quiet)
        assert job is not None
        assert abs(job.next_run_time - expected[0].at) < timedelta(seconds=5)
        assert scheduler.get_job("planner-tick") is not None
    finally:
        await planner.stop()


def test_tet_dates_used_above() -> None:
    from scheduler.lunar import tet

    assert (tet(2026), tet(2027)) == (date(2026, 2, 17), date(2027, 2, 6))


_ = Chat  # imported for readers: audiences are chats
