"""The resident's feedback flow on web chat and Zalo Bot, and the staff side through the engine.

Staff notifications and answers go through the outbox; these tests read the outbox rows (what the
dispatcher would send) and play the platform's part by recording a sent message id on them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bot.app import build_bot, build_services
from bot.config import Settings, StaffMember
from bot.model import TELEGRAM, WEB, ZALO_BOT, Location, Outbound
from storage.models import Outbox, Person, Ticket, TicketEvent
from tests.conftest import FakeClock
from tests.transcript import Transcript

STAFF_GROUP = "-100777"
STAFF_ID = "111"


def with_staff(settings: Settings) -> Settings:
    return replace(
        settings,
        staff=[StaffMember(name="Y sĩ Lan", role="admin", telegram_id=STAFF_ID)],
        feedback=replace(settings.feedback, staff_chat=f"telegram:{STAFF_GROUP}"),
    )


@pytest.fixture
async def bot(settings: Settings, clock: FakeClock):  # noqa: ANN201
    services = build_services(with_staff(settings), clock=clock)
    yield build_bot(services)
    await services.db.close()


async def outbox_rows(bot, chat_id: str | None = None) -> list[Outbox]:  # noqa: ANN001
    async with bot.services.db.sessions() as session:
        stmt = select(Outbox).order_by(Outbox.id)
        if chat_id is not None:
            stmt = stmt.where(Outbox.chat_id == chat_id)
        return list((await session.execute(stmt)).scalars().all())


async def mark_sent(bot, row: Outbox, message_id: str) -> None:  # noqa: ANN001
    """What the dispatcher records after the platform accepted the message."""
    async with bot.services.db.sessions() as session, session.begin():
        await session.execute(
            update(Outbox)
            .where(Outbox.id == row.id)
            .values(status="sent", sent_message_id=message_id, sent_at=datetime.now(UTC))
        )


async def only_ticket(bot) -> Ticket:  # noqa: ANN001
    async with bot.services.db.sessions() as session:
        return (await session.execute(select(Ticket))).scalar_one()


async def file_feedback(chat: Transcript, *, photo: bool = True, how: str = "Gửi ẩn danh") -> str:
    """Tap through the whole flow; returns the confirmation text."""
    await chat.say("/gopy")
    await chat.tap("Vệ sinh môi trường / ổ bọ gậy")
    assert "mô tả" in chat.text
    await chat.say("Có ổ bọ gậy trong chum nước ở ngõ 5, tổ 2")
    if photo:
        await chat.send(photo="https://example.org/chum.jpg", text="")
        assert "Tiếp tục" in [b.label for b in chat.buttons()]
    await chat.tap("Tiếp tục")
    await chat.tap(how)
    assert "Vui lòng kiểm tra" in chat.text
    await chat.tap("Gửi")
    return chat.text


async def test_web_resident_files_a_ticket_and_gets_a_code_and_deadline(bot) -> None:  # noqa: ANN001
    chat = Transcript(bot, WEB, "web", "resident-1")
    text = await file_feedback(chat)
    assert "PA-2026-000001" in text
    # Filed Monday 23/11/2026 10:00; 24/11 is Vietnam Cultural Day (a public holiday), so the
    # 8 working hours run to Wednesday 25/11 at 10:00.
    assert "10:00 25/11/2026" in text
    ticket = await only_ticket(bot)
    assert ticket.photo == "https://example.org/chum.jpg"
    assert ticket.anonymous and ticket.category == "sanitation"
    staff = await outbox_rows(bot, STAFF_GROUP)
    assert len(staff) == 1 and staff[0].ticket_id == ticket.id
    card = Outbound.from_payload(staff[0].payload)
    assert "PA-2026-000001" in card.text and "ổ bọ gậy" in card.text
    assert card.image == "https://example.org/chum.jpg"
    assert {b.label for b in card.all_buttons()} >= {"Tiếp nhận", "Trả lời", "Chuyển", "Đóng"}


async def test_zalo_bot_flow_with_typed_numbers(bot) -> None:  # noqa: ANN001
    chat = Transcript(bot, ZALO_BOT, "zalo_bot", "zl-42")
    await chat.say("gop y")
    assert "Gõ số để chọn:" in chat.text and "7. Dịch bệnh trong khu dân cư" in chat.text
    assert not chat.buttons()
    await chat.say("7")  # the 7th category: outbreak (urgent)
    await chat.say("Nhiều người trong xóm sốt cao 3 ngày nay")
    await chat.say("1")  # Continue
    await chat.say("1")  # Leave my phone number
    assert "/dulieu" in chat.text  # the consent line says how to delete it
    await chat.say("0912 34 56")
    assert "không phải số điện thoại Việt Nam" in chat.text
    await chat.say("+84 912 345 678")
    assert "0912345678" in chat.text
    await chat.say("1")  # Send
    assert "PA-2026-000001" in chat.text
    ticket = await only_ticket(bot)
    assert ticket.urgency == "urgent" and ticket.phone == "0912345678"
    async with bot.services.db.sessions() as session:
        person = await session.get(Person, ticket.person_id)
        assert person.phone == "0912345678" and person.consent_at is not None
    card = Outbound.from_payload((await outbox_rows(bot, STAFF_GROUP))[0].payload)
    assert "0912 345 678" in card.text  # staff may see a phone the resident chose to give


async def test_whole_loop_accept_reply_close_rate(bot) -> None:  # noqa: ANN001
    resident = Transcript(bot, WEB, "web", "resident-1")
    await file_feedback(resident, how="Gửi không kèm số điện thoại")
    card_row = (await outbox_rows(bot, STAFF_GROUP))[0]
    await mark_sent(bot, card_row, "501")
    staff = Transcript(bot, TELEGRAM, "telegram", STAFF_GROUP, user_id=STAFF_ID, chat_kind="group")
    ticket = await only_ticket(bot)
    await staff.send(button=f"tk:acc:{ticket.id}")
    assert "Y sĩ Lan" in staff.text
    await staff.send(
        text="Trạm đã cử cán bộ xử lý ổ bọ gậy, cảm ơn bác.",
        reply_to_message_id="501",
        photo="https://example.org/fixed.jpg",
    )
    answers = [Outbound.from_payload(r.payload) for r in await outbox_rows(bot, "resident-1")]
    answer = next(a for a in answers if "cảm ơn bác" in a.text)
    assert "Cán bộ Trạm Y tế" in answer.text and "Y sĩ Lan" not in answer.text
    assert answer.image == "https://example.org/fixed.jpg"
    await staff.send(button=f"tk:close:{ticket.id}")
    await staff.tap("Đồng ý đóng")
    closing = Outbound.from_payload((await outbox_rows(bot, "resident-1"))[-1].payload)
    assert "đánh giá" in closing.text.lower() or "hài lòng" in closing.text.lower()
    stars = [b.data for b in closing.all_buttons()]
    assert stars[-1] == f"fb:rate:{ticket.id}:5"
    await resident.send(button=stars[-1])
    await resident.tap("Bỏ qua")
    ticket = await only_ticket(bot)
    assert ticket.status == "closed" and ticket.rating == 5
    async with bot.services.db.sessions() as session:
        actions = (
            await session.execute(
                select(TicketEvent.actor, TicketEvent.action).order_by(TicketEvent.id)
            )
        ).all()
    assert [a for _, a in actions] == ["filed", "accepted", "answered", "closed", "rated"]
    assert ("Y sĩ Lan", "answered") in actions


async def test_reply_to_the_confirmation_is_offered_as_an_addition(bot) -> None:  # noqa: ANN001
    chat = Transcript(bot, TELEGRAM, "telegram", "7001")
    await file_feedback(chat, photo=False)
    # The confirmation was a direct reply, so its platform id is unknown: the bot asks.
    await chat.send(text="Quên nói: cạnh nhà số 12", reply_to_message_id="999")
    assert "bổ sung" in chat.text.lower()
    await chat.tap("Bổ sung cho PA-2026-000001")
    assert "PA-2026-000001" in chat.text
    ticket = await only_ticket(bot)
    assert "cạnh nhà số 12" in ticket.text
    note = Outbound.from_payload((await outbox_rows(bot, STAFF_GROUP))[-1].payload)
    assert "cạnh nhà số 12" in note.text


async def test_typing_instead_of_choosing_shows_the_choices_again(bot) -> None:  # noqa: ANN001
    chat = Transcript(bot, ZALO_BOT, "zalo_bot", "zl-7")
    await chat.say("/gopy")
    await chat.say("bệnh viện đông quá")
    assert "chọn lĩnh vực" in chat.text and "Thời gian chờ" in chat.text
    await chat.say("2")  # the numbers still work
    assert "mô tả" in chat.text


async def test_staff_answer_button_then_message_and_resident_lists_tickets(bot) -> None:  # noqa: ANN001
    resident = Transcript(bot, WEB, "web", "resident-3")
    await file_feedback(resident, photo=False)
    ticket = await only_ticket(bot)
    staff = Transcript(bot, TELEGRAM, "telegram", STAFF_GROUP, user_id=STAFF_ID, chat_kind="group")
    await staff.send(button=f"tk:ans:{ticket.id}")
    assert "PA-2026-000001" in staff.text
    await staff.say("Chiều nay trạm cử người đến kiểm tra.")  # the reply to the bot's prompt
    answer = Outbound.from_payload((await outbox_rows(bot, "resident-3"))[-1].payload)
    assert "Chiều nay trạm cử người" in answer.text
    await resident.say("/phananh")
    assert "PA-2026-000001" in resident.text and "đã trả lời" in resident.text
    assert "Bổ sung cho PA-2026-000001" in [b.label for b in resident.buttons()]


async def test_menu_button_topic_button_and_a_location(bot) -> None:  # noqa: ANN001
    chat = Transcript(bot, WEB, "web", "resident-4")
    await chat.say("/start")
    await chat.send(button="cmd:gopy")  # the main menu's "Góp ý / Phản ánh"
    assert "chọn lĩnh vực" in chat.text
    await chat.tap("Huỷ")
    await chat.send(button="e:feedback.how-to")  # the feedback topic leads into the flow
    await chat.tap("cmd:gopy")
    await chat.tap("An toàn thực phẩm")
    await chat.send(location=Location(21.028511, 105.804817))
    assert "mô tả" in chat.text  # a location alone is not a description
    await chat.say("Bếp ăn tập thể không che đậy thức ăn")
    await chat.tap("Tiếp tục")
    await chat.tap("Gửi ẩn danh")
    assert "Vị trí: đã đính kèm" in chat.text
    await chat.tap("Gửi")
    ticket = await only_ticket(bot)
    assert (ticket.latitude, ticket.longitude, ticket.urgency) == (21.028511, 105.804817, "urgent")
    card = Outbound.from_payload((await outbox_rows(bot, STAFF_GROUP))[0].payload)
    assert "maps.google.com/?q=21.028511,105.804817" in card.text
    # Urgent: 4 working hours from Monday 10:00 → 16:00 (lunch 11:30–13:30 does not count).
    assert "16:00 23/11/2026" in chat.text


async def test_commands_replying_to_the_card_need_no_code(bot) -> None:  # noqa: ANN001
    await file_feedback(Transcript(bot, WEB, "web", "resident-5"), photo=False)
    await mark_sent(bot, (await outbox_rows(bot, STAFF_GROUP))[0], "601")
    staff = Transcript(bot, TELEGRAM, "telegram", STAFF_GROUP, user_id=STAFF_ID, chat_kind="group")
    await staff.send(text="/tiepnhan", reply_to_message_id="601")
    assert "PA-2026-000001" in staff.text and "Y sĩ Lan" in staff.text
    await staff.send(text="/dong Đã phát quang bụi rậm.", reply_to_message_id="601")
    ticket = await only_ticket(bot)
    assert ticket.status == "closed"
    texts = [Outbound.from_payload(r.payload).text for r in await outbox_rows(bot, "resident-5")]
    assert any("phát quang bụi rậm" in t for t in texts)  # the closing answer came first
