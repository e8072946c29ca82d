"""Staff broadcasts end to end: python-telegram-bot against FakeTelegram, the outbox dispatcher
with the Telegram sender, residents in groups and private chats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.config import Settings, StaffMember
from scheduler.dispatcher import Dispatcher
from storage import people
from storage.models import BroadcastRecord, Outbox, Person
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_e2e import Running, running_bot, say, tap

AUTHOR, APPROVER = 9001, 9002
GROUP_TDP1, GROUP_TDP2 = -4101, -4102
SUB_TDP1, SUB_TDP2, NOT_SUBSCRIBED = 7301, 7302, 7303


def staff_settings(settings: Settings, *, approval: bool = False) -> Settings:
    staff = [StaffMember("Chị Lan", "staff", telegram_id=str(AUTHOR)),
             StaffMember("Anh Minh", "approver", telegram_id=str(APPROVER))]
    return replace(settings, staff=staff,
                   broadcast=replace(settings.broadcast, require_approval=approval))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:  # Telegram's flood limits on
        yield server


async def residents(tg: Running) -> None:
    """Two resident groups with areas, two subscribers in two areas, one person not subscribed."""
    async with tg.bot.services.db.sessions() as session, session.begin():
        for chat_id, area in ((GROUP_TDP1, "TDP1"), (GROUP_TDP2, "TDP2")):
            chat = await people.ensure_chat(session, "telegram", str(chat_id), "group", None)
            chat.area_code = area
        for chat_id, area, topics in ((SUB_TDP1, "TDP1", ["dengue"]),
                                      (SUB_TDP2, "TDP2", ["dengue"]),
                                      (NOT_SUBSCRIBED, "TDP1", [])):
            person = Person(locale="vi", area_code=area)
            session.add(person)
            await session.flush()
            await people.ensure_chat(session, "telegram", str(chat_id), "private", person.id)
            for topic in topics:
                await people.subscribe(session, person.id, topic)


def dispatcher(tg: Running, clock: object) -> Dispatcher:
    """The outbox dispatcher with the senders the Telegram channel registered (real limits)."""
    services = tg.bot.services
    return Dispatcher(services.db, services.extras["senders"], clock)  # type: ignore[arg-type]


async def compose_to_tdp1(fake: FakeTelegram, author: int = AUTHOR) -> list:
    """/phat -> library -> dengue -> prevention -> area TDP1 -> now; returns the preview."""
    (menu,) = await say(fake, author, "/phat")
    (topics,) = await tap(fake, author, "bc:lib", menu.message_id)
    (entries,) = await tap(fake, author, "bc:t:dengue", topics.message_id)
    (audience,) = await tap(fake, author, "bc:e:dengue.prevention", entries.message_id)
    assert "bc:a:area:TDP2" in audience.callback_data
    (when,) = await tap(fake, author, "bc:a:area:TDP1", audience.message_id)
    (preview,) = await tap(fake, author, "bc:w:now", when.message_id)
    return preview


async def test_staff_broadcast_to_one_area_reaches_only_its_groups_and_subscribers(
        settings: Settings, fake: FakeTelegram, clock: object) -> None:
    async with running_bot(staff_settings(settings), fake, clock) as tg:
        await residents(tg)
        preview = await compose_to_tdp1(fake)
        assert "2 cuộc trò chuyện (1 nhóm, 1 người)" in preview.text
        assert "Nguồn:" in preview.text
        assert preview.callback_data == ["bc:ok", "bc:quit"]
        (done,) = await tap(fake, AUTHOR, "bc:ok", preview.message_id)
        assert "Đã xếp lịch gửi tới 2" in done.text
        await dispatcher(tg, clock).drain(timeout=20)
    received = {chat: len(fake.sent_to(chat)) for chat in
                (GROUP_TDP1, GROUP_TDP2, SUB_TDP1, SUB_TDP2, NOT_SUBSCRIBED)}
    assert received == {GROUP_TDP1: 1, GROUP_TDP2: 0, SUB_TDP1: 1, SUB_TDP2: 0, NOT_SUBSCRIBED: 0}
    (news,) = fake.sent_to(GROUP_TDP1)
    assert news.text.startswith("Tin sức khỏe từ")
    assert "Nguồn:" in news.text


async def test_a_resident_cannot_broadcast_even_by_replaying_buttons(
        settings: Settings, fake: FakeTelegram, clock: object) -> None:
    async with running_bot(staff_settings(settings), fake, clock) as tg:
        await residents(tg)
        (refusal,) = await say(fake, NOT_SUBSCRIBED, "/phat")
        assert "chỉ dành cho cán bộ" in refusal.text
        (refusal,) = await say(fake, NOT_SUBSCRIBED, "/khancap")
        assert "chỉ dành cho cán bộ" in refusal.text
        for data in ("bc:a:all", "bc:ok", "bcy:1", "bcx:1"):
            (refusal,) = await tap(fake, NOT_SUBSCRIBED, data, refusal.message_id)
            assert "chỉ cán bộ" in refusal.text
        # Staff in a group chat are refused as well: broadcasts are composed in private.
        (group_reply,) = await say(fake, GROUP_TDP1, "/phat", user_id=AUTHOR)
        assert "riêng" in group_reply.text or "private" in group_reply.text.lower()
        await dispatcher(tg, clock).drain()
        async with tg.bot.services.db.sessions() as session:
            assert (await session.execute(select(Outbox))).scalars().all() == []
            assert (await session.execute(select(BroadcastRecord))).scalars().all() == []


async def test_with_approval_nothing_goes_out_until_the_approver_confirms(
        settings: Settings, fake: FakeTelegram, clock: object) -> None:
    async with running_bot(staff_settings(settings, approval=True), fake, clock) as tg:
        await residents(tg)
        preview = await compose_to_tdp1(fake)
        assert "Cần người duyệt" in preview.text
        (asked,) = await tap(fake, AUTHOR, "bc:ok", preview.message_id)
        assert "Anh Minh" in asked.text
        await dispatcher(tg, clock).drain(timeout=20)
        assert fake.sent_to(GROUP_TDP1) == [] and fake.sent_to(SUB_TDP1) == []
        (request,) = fake.sent_to(APPROVER)
        assert "Chị Lan" in request.text
        approve, reject = request.callback_data
        assert approve.startswith("bcy:") and reject.startswith("bcn:")
        # The author cannot approve their own broadcast, even with the button's data.
        (refused,) = await tap(fake, AUTHOR, approve, asked.message_id)
        assert "không được làm việc này" in refused.text  # staff may not approve at all
        await dispatcher(tg, clock).drain(timeout=20)
        assert fake.sent_to(GROUP_TDP1) == []
        (approved,) = await tap(fake, APPROVER, approve, request.message_id)
        assert "Đã xếp lịch gửi tới 2" in approved.text
        await dispatcher(tg, clock).drain(timeout=20)
        assert len(fake.sent_to(GROUP_TDP1)) == 1 and len(fake.sent_to(SUB_TDP1)) == 1
        assert fake.sent_to(GROUP_TDP2) == [] and fake.sent_to(SUB_TDP2) == []
        # The author's notice may meet Telegram's 1 msg/s limit for their busy chat: it is retried
        # after retry_after, on the real clock (the fake's) and the dispatcher's clock alike.
        await asyncio.sleep(1.1)
        clock.advance(seconds=2)  # type: ignore[attr-defined]
        await dispatcher(tg, clock).drain(timeout=20)
        assert "Anh Minh đã duyệt" in fake.sent_to(AUTHOR)[-1].text
        async with tg.bot.services.db.sessions() as session:
            record = (await session.execute(select(BroadcastRecord))).scalar_one()
        assert (record.status, record.approved_by, record.recipients) == ("queued", "Anh Minh", 2)
