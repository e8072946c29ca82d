"""Staff change or cancel a check-up session from the chat (issue 20): the residents who booked are
told through the outbox, their reminders follow the new details, and changes that would strand a
booking are refused."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.config import Settings, StaffMember
from bot.model import TELEGRAM, WEB
from storage.models import CheckupBooking, CheckupSession, CheckupSlot, Outbox
from tests.conftest import FakeClock
from tests.transcript import Transcript


@pytest.fixture
async def bot(settings: Settings):  # noqa: ANN201
    staffed = replace(settings, staff=[StaffMember("Y sĩ Lan", "staff", telegram_id="55")])
    services = build_services(staffed, clock=FakeClock())  # 23/11/2026 10:00 Vietnam time
    yield build_bot(services)
    await services.db.close()


async def book(bot, chat_id: str, time: str, name: str) -> None:  # noqa: ANN001
    chat = Transcript(bot, WEB, "web", chat_id)
    await chat.say("/start TDP1")
    await chat.say("/khamsuckhoe")
    await chat.tap(chat.buttons()[0].data)  # the session
    await chat.tap(time)
    await chat.tap("Tôi đồng ý")
    await chat.say(name)
    await chat.say("1950")
    await chat.say("0911111111")
    assert "Đã đặt lịch" in chat.text


async def outbox_rows(bot, like: str) -> list[Outbox]:  # noqa: ANN001
    async with bot.services.db.sessions() as session:
        return list((await session.execute(
            select(Outbox).where(Outbox.dedupe_key.like(like)).order_by(Outbox.id))).scalars())


async def test_change_place_and_time_then_cancel(bot) -> None:  # noqa: ANN001
    staff = Transcript(bot, TELEGRAM, "telegram", "55")
    await staff.say("/taokham 28/11/2026 07:30-08:30; Trạm Y tế phường; *; 2")
    assert "Đã tạo buổi khám 1" in staff.text
    await book(bot, "a", "07:30 (còn 2 chỗ)", "Lê Thị Một")
    await book(bot, "b", "08:00 (còn 2 chỗ)", "Phạm Văn Hai")
    first_reminders = await outbox_rows(bot, "checkup:%")
    assert len(first_reminders) == 4 and {r.status for r in first_reminders} == {"pending"}

    bot.services.clock.advance(minutes=20)  # the staff change it later that morning
    await staff.say("/suakham 1 noi Nhà văn hoá TDP2")
    assert "Đã sửa buổi khám 1; đã báo cho 2 người." in staff.text
    told = await outbox_rows(bot, "checkup-changed:%")
    assert [r.chat_id for r in told] == ["a", "b"]
    assert "Giờ khám mới: 07:30, 28/11/2026" in told[0].payload["text"]
    assert "Nhà văn hoá TDP2" in told[0].payload["text"]
    reminders = await outbox_rows(bot, "checkup:%")
    assert [r.status for r in reminders[:4]] == ["cancelled"] * 4  # the old details
    assert [r.status for r in reminders[4:]] == ["pending"] * 4
    assert all("Nhà văn hoá TDP2" in r.payload["text"] for r in reminders[4:])

    # A window that would leave the 08:00 booking outside is refused; nothing moves.
    await staff.say("/suakham 1 gio 28/11/2026 07:30-08:00")
    assert "nằm ngoài thời gian mới" in staff.text
    # Moved to the next day, 09:00-10:00: each booked time keeps its place in the order.
    bot.services.clock.advance(minutes=20)
    await staff.say("/suakham 1 gio 29/11/2026 09:00-10:00")
    assert "Đã sửa buổi khám 1; đã báo cho 2 người." in staff.text
    told = await outbox_rows(bot, "checkup-changed:%")
    assert "Giờ khám mới: 09:00, 29/11/2026" in told[2].payload["text"]
    assert "Giờ khám mới: 09:30, 29/11/2026" in told[3].payload["text"]

    await staff.say("/suakham 1 cho 0")
    assert "không ít hơn số người đã đặt" in staff.text
    await staff.say("/suakham 1 cho 1")
    assert "Buổi khám 1: 1 chỗ mỗi 30 phút." in staff.text
    async with bot.services.db.sessions() as session:
        slots = (await session.execute(select(CheckupSlot))).scalars().all()
        assert sorted((s.capacity, s.booked) for s in slots) == [(1, 1), (1, 1)]

    await staff.say("/suakham 1 huy")
    await staff.tap("Đồng ý huỷ buổi khám")
    assert "Đã huỷ buổi khám 1; đã báo cho 2 người." in staff.text
    cancelled = await outbox_rows(bot, "checkup-cancelled:%")
    assert len(cancelled) == 2 and "đã được trạm huỷ" in cancelled[0].payload["text"]
    assert {r.status for r in await outbox_rows(bot, "checkup:%")} == {"cancelled"}
    async with bot.services.db.sessions() as session:
        assert (await session.get(CheckupSession, 1)).status == "cancelled"
        bookings = (await session.execute(select(CheckupBooking))).scalars().all()
        assert {b.status for b in bookings} == {"cancelled"}
    await staff.say("/suakham 1 noi Trạm")
    assert "không sửa được nữa" in staff.text
    resident = Transcript(bot, WEB, "web", "a")
    await resident.say("/suakham 1 huy")
    assert "Đã huỷ" not in resident.text
