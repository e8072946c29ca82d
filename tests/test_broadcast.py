"""Staff broadcasts in conversation (any channel): scheduling, past times, cancelling, urgent
alerts at night, and subscriptions respected when a scheduled broadcast fires."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.config import Settings, StaffMember
from bot.model import TELEGRAM
from content.library import load_library
from scheduler.occurrences import VN_TZ
from scheduler.plan import Plan
from scheduler.planner import Planner
from storage import people
from storage.models import BroadcastRecord, Outbox, Person
from tests.transcript import Transcript

STAFF_ID = "9001"


@pytest.fixture
async def bot(settings: Settings, clock):  # noqa: ANN001, ANN201
    staffed = replace(settings, staff=[StaffMember("Chị Lan", "staff", telegram_id=STAFF_ID)])
    services = build_services(staffed, clock=clock)
    yield build_bot(services)
    await services.db.close()


def staff(bot) -> Transcript:  # noqa: ANN001
    return Transcript(bot, TELEGRAM, "telegram", STAFF_ID)


async def with_group_and_subscriber(bot) -> int:  # noqa: ANN001
    async with bot.services.db.sessions() as session, session.begin():
        group = await people.ensure_chat(session, "telegram", "-700", "group", None)
        group.area_code = "TDP1"
        person = Person(locale="vi", area_code="TDP1")
        session.add(person)
        await session.flush()
        await people.ensure_chat(session, "telegram", "701", "private", person.id)
        await people.subscribe(session, person.id, "flu")
        return person.id


async def outbox_rows(bot) -> list[Outbox]:  # noqa: ANN001
    async with bot.services.db.sessions() as session:
        return list((await session.execute(select(Outbox).order_by(Outbox.id))).scalars())


async def own_text_to_everyone(t: Transcript, text: str) -> None:
    await t.say("/phat")
    await t.tap("bc:text")
    await t.say(text)
    await t.tap("bc:a:all")


async def test_scheduled_broadcast_waits_respects_huy_and_can_be_cancelled(bot, clock) -> None:
    person_id = await with_group_and_subscriber(bot)
    t = staff(bot)
    await own_text_to_everyone(t, "Ngày mai trạm tiêm chủng từ 7 giờ.")
    await t.tap("bc:w:later")
    await t.say("23/11/2026 09:30")  # the fake clock says 10:00 on 23/11: already past
    assert "đã qua" in t.text
    await t.say("31/02/2026 09:00")
    assert "ví dụ" in t.text and "mai 8h" in t.text
    await t.say("24/11/2026 08:00")
    assert "2 cuộc trò chuyện (1 nhóm, 1 người)" in t.text and "24/11/2026" in t.text
    await t.tap("bc:ok")
    assert "Đã hẹn gửi" in t.text
    assert await outbox_rows(bot) == []  # nothing queued before its time
    async with bot.services.db.sessions() as session, session.begin():
        await people.unsubscribe_all(session, person_id)  # the resident sends /huy meanwhile
    planner = Planner(bot.services.db, bot.services.settings, bot.services.library,
                      Plan(campaigns=(), region="north"), clock)
    await planner.fire_due()
    clock.now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
    report = await planner.fire_due()
    assert report.broadcasts == 1
    rows = await outbox_rows(bot)
    assert [r.chat_id for r in rows] == ["-700"]  # the group, not the one who left
    assert rows[0].payload["text"].startswith("Thông báo từ")

    # A second one, cancelled with /huyphat before it goes.
    await own_text_to_everyone(t, "Lịch khám thay đổi.")
    await t.tap("bc:w:later")
    await t.say("25/11/2026 08:00")
    await t.tap("bc:ok")
    await t.say("/huyphat")
    (choice,) = [b for b in t.buttons() if "Lịch khám" in b.label]
    await t.tap(choice.data)
    assert "Đã hủy" in t.text
    clock.now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    assert (await planner.fire_due()).broadcasts == 0
    assert len(await outbox_rows(bot)) == 1
    await planner.stop()


async def test_cancelling_stops_what_has_not_gone_yet(bot, clock) -> None:
    await with_group_and_subscriber(bot)
    t = staff(bot)
    await own_text_to_everyone(t, "Thông báo thử.")
    await t.tap("bc:w:now")
    await t.tap("bc:ok")
    await t.say("/huyphat")
    await t.tap([b for b in t.buttons() if b.data.startswith("bcx:")][0].data)
    assert "Đã dừng 2 tin" in t.text
    assert {r.status for r in await outbox_rows(bot)} == {"cancelled"}


async def test_at_night_news_waits_for_morning_but_an_urgent_alert_goes_now(bot, clock) -> None:
    await with_group_and_subscriber(bot)
    clock.now = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 22:30 in Vietnam
    t = staff(bot)
    await own_text_to_everyone(t, "Tin thường.")
    await t.tap("bc:w:now")
    # "Now" at 22:30 is not now: the preview says so and offers 07:00 (no "send anyway").
    assert "giờ yên tĩnh" in t.text and "ngay bây giờ" not in t.text
    assert [b.label for b in t.buttons()] == ["Gửi lúc 07:00", "Huỷ"]
    await t.tap("Gửi lúc 07:00")
    assert "07:00, Thứ Ba 24/11/2026" in t.text
    await t.tap("bc:ok")
    assert "Đã hẹn gửi" in t.text or "07:00, Thứ Ba 24/11/2026" in t.text
    await t.say("/khancap")
    await t.tap("bc:text")
    await t.say("Mất nước sạch khu TDP1, đun sôi nước trước khi uống.")
    await t.tap("bc:a:area:TDP1")
    assert "giờ yên tĩnh" in t.text  # urgent: no time step, but the choice at night
    await t.tap("🚨 Vẫn gửi ngay")
    assert "Xem trước" in t.text and "🚨 Tin khẩn." in t.text
    await t.tap("bc:ok")
    rows = await outbox_rows(bot)
    assert rows and all(r.urgent for r in rows)  # the ordinary one waits for 07:00
    assert {r.not_before for r in rows} == {clock.now}
    assert rows[0].payload["text"].startswith("🚨 KHẨN")
    async with bot.services.db.sessions() as session:
        records = (await session.execute(select(BroadcastRecord).order_by(BroadcastRecord.id)
                                         )).scalars().all()
    assert [(r.kind, r.status) for r in records] == [("staff", "scheduled"), ("urgent", "queued")]
    assert f"{records[0].scheduled_at.astimezone(VN_TZ):%d/%m %H:%M}" == "24/11 07:00"


async def test_english_speaking_staff_get_the_flow_in_english(bot, clock) -> None:
    t = staff(bot)
    await t.send(text="/phat", locale_hint="en")
    await t.say("/ngonngu")
    await t.tap("lang:en")
    await t.say("/phat")
    assert "What do you want to send?" in t.text


def test_library_is_there() -> None:
    assert load_library().has_entry("flu.prevention")
