"""Feedback end to end on Telegram: the real PTB client against FakeTelegram, the real outbox
Dispatcher with the TelegramSender, a resident in a private chat and staff in their group.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.config import Settings, StaffMember
from bot.feedback.reports import satisfaction
from scheduler.dispatcher import Dispatcher
from storage.models import Ticket
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_e2e import Running, running_bot

RESIDENT = 7301
STAFF_GROUP = -4301
STAFF = 7399


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood_limits=None) as server:
        yield server


@pytest.fixture
async def tg(settings: Settings, fake: FakeTelegram, clock: object) -> AsyncIterator[Running]:
    settings = replace(
        settings,
        staff=[StaffMember(name="Y sĩ Hoa", role="admin", telegram_id=str(STAFF))],
        feedback=replace(settings.feedback, staff_chat=f"telegram:{STAFF_GROUP}"),
    )
    async with running_bot(settings, fake, clock) as running:
        yield running


def dispatcher(tg: Running) -> Dispatcher:
    return Dispatcher(tg.bot.services.db, tg.bot.services.extras["senders"])


async def say(fake: FakeTelegram, chat: int, user: int, text: str = "", **kw: object) -> list:
    before = len(fake.sent_to(chat))
    await fake.push_message(chat, user, text, **kw)  # type: ignore[arg-type]
    return (await fake.wait_for_sent(chat, before + 1))[before:]


async def tap(fake: FakeTelegram, chat: int, user: int, data: str, message_id: int) -> list:
    before = len(fake.sent_to(chat))
    await fake.push_callback(chat, user, data, message_id)
    return (await fake.wait_for_sent(chat, before + 1))[before:]


def button(message: object, label: str) -> str:
    for row in message.reply_markup["inline_keyboard"]:  # type: ignore[attr-defined]
        for b in row:
            if b["text"] == label:
                return b["callback_data"]
    raise AssertionError(f"no button {label!r}")


async def test_ticket_with_photo_answered_from_the_staff_group_closed_and_rated(
    tg: Running, fake: FakeTelegram
) -> None:
    (menu,) = await say(fake, RESIDENT, RESIDENT, "/gopy")
    (prompt,) = await tap(
        fake, RESIDENT, RESIDENT, button(menu, "Vệ sinh môi trường / ổ bọ gậy"), menu.message_id
    )
    await say(fake, RESIDENT, RESIDENT, "Ổ bọ gậy trong lốp xe bỏ ở ngõ 7")
    (got_photo,) = await say(fake, RESIDENT, RESIDENT, "", photo=True)
    (contact,) = await tap(fake, RESIDENT, RESIDENT, "fb:more", got_photo.message_id)
    (review,) = await tap(
        fake, RESIDENT, RESIDENT, button(contact, "Gửi ẩn danh"), contact.message_id
    )
    (done,) = await tap(fake, RESIDENT, RESIDENT, "fb:send", review.message_id)
    assert "PA-2026-000001" in done.text

    await dispatcher(tg).drain()
    (card,) = fake.sent_to(STAFF_GROUP)
    assert card.photo and "PA-2026-000001" in card.caption and "ổ bọ gậy" in card.caption
    assert "Người gửi: ẩn danh" in card.caption and "Test" not in card.caption
    labels = [b["text"] for row in card.reply_markup["inline_keyboard"] for b in row]
    assert {"Tiếp nhận", "Trả lời", "Chuyển", "Đóng"} <= set(labels)

    (accepted,) = await tap(fake, STAFF_GROUP, STAFF, button(card, "Tiếp nhận"), card.message_id)
    assert "Y sĩ Hoa" in accepted.text
    (relayed,) = await say(
        fake,
        STAFF_GROUP,
        STAFF,
        "Đã xử lý, lốp xe đã được thu gom.",
        reply_to_message_id=card.message_id,
        photo=True,
    )
    assert "PA-2026-000001" in relayed.text
    await dispatcher(tg).drain()
    answer = fake.sent_to(RESIDENT)[-1]
    assert answer.photo and "lốp xe đã được thu gom" in answer.caption
    assert "Cán bộ Trạm Y tế" in answer.caption and "Hoa" not in answer.caption

    (confirm,) = await tap(fake, STAFF_GROUP, STAFF, button(card, "Đóng"), card.message_id)
    assert "Đóng phản ánh PA-2026-000001?" in confirm.text  # nothing closes on one tap
    await tap(fake, STAFF_GROUP, STAFF, button(confirm, "Đồng ý đóng"), confirm.message_id)
    await dispatcher(tg).drain()
    closing = fake.sent_to(RESIDENT)[-1]
    assert "PA-2026-000001" in closing.text
    (thanks,) = await tap(fake, RESIDENT, RESIDENT, closing.callback_data[-1], closing.message_id)
    assert "5/5" in thanks.text

    async with tg.bot.services.db.sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
        assert (ticket.status, ticket.rating, ticket.assignee) == ("closed", 5, "Y sĩ Hoa")
        rated = await satisfaction(
            session, ticket.created_at.date(), ticket.created_at.date().replace(year=2027)
        )
    assert rated.ratings == 1 and rated.rate == 1.0


async def test_resident_reply_to_an_answer_adds_to_the_ticket(
    tg: Running, fake: FakeTelegram
) -> None:
    await say(fake, RESIDENT, RESIDENT, "/gopy")
    await tap(fake, RESIDENT, RESIDENT, "fb:cat:waiting", 1)
    await say(fake, RESIDENT, RESIDENT, "Chờ tiêm chủng 2 tiếng")
    await tap(fake, RESIDENT, RESIDENT, "fb:more", 1)
    await tap(fake, RESIDENT, RESIDENT, "fb:named", 1)
    await tap(fake, RESIDENT, RESIDENT, "fb:send", 1)
    await say(fake, STAFF_GROUP, STAFF, "/traloi PA-2026-000001 Trạm xin lỗi bác, sẽ thêm bàn.")
    await dispatcher(tg).drain()
    answer = fake.sent_to(RESIDENT)[-1]
    assert "thêm bàn" in answer.text
    (ack,) = await say(
        fake,
        RESIDENT,
        RESIDENT,
        "Cảm ơn, mong trạm mở thêm giờ chiều",
        reply_to_message_id=answer.message_id,
    )
    assert "PA-2026-000001" in ack.text
    await dispatcher(tg).drain()
    note = fake.sent_to(STAFF_GROUP)[-1]
    assert "mở thêm giờ chiều" in note.text
