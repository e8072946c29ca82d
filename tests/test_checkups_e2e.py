"""Check-ups end to end (issue 20): staff create a session on Telegram (the real PTB client
against FakeTelegram), a resident of the area is invited on the web page (the real outbox
dispatcher delivers), books with consent, is reminded the day before (fixed clock), moves the
booking, and the staff mark them as come. Runs on SQLite and PostgreSQL.
"""

# The shared fixtures (`fake`, `stack`, `visitor`) come from tests/web_visitor.py; pytest passes
# them as parameters of the same name.
# ruff: noqa: F811
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.models import CheckupBooking, CheckupSlot, Outbox
from tests.web_visitor import WebStack, WebVisitor, fake, stack, visitor  # noqa: F401

NAME = "Trần Văn Khám"
PHONE = "0987654321"
NEW_SESSION = ("/taokham 25/11/2026 07:30-09:30; Nhà văn hoá TDP1; TDP1; 2; Người cao tuổi; ; "
               "nhịn ăn")


async def checkup_rows(stack: WebStack) -> tuple[list[CheckupBooking], list[Outbox]]:
    async with stack.bot.services.db.sessions() as session:
        bookings = list((await session.execute(select(CheckupBooking))).scalars())
        rows = list((await session.execute(
            select(Outbox).where(Outbox.dedupe_key.like("checkup:%")).order_by(Outbox.id)
        )).scalars())  # fmt: skip
    return bookings, rows


def buttons(messages: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [b["label"] for m in messages for row in m.get("buttons") or [] for b in row]


async def test_invited_books_is_reminded_moves_and_is_marked_as_come(
    stack: WebStack, visitor: WebVisitor, clock  # noqa: ANN001
) -> None:
    await visitor.say("/start TDP1")
    subscribed = await visitor.say("/theodoi")
    await visitor.tap("Tất cả chủ đề", subscribed)

    (created,) = await stack.staff_says(NEW_SESSION)
    assert "Đã tạo buổi khám 1: 4 khung giờ, tổng 8 chỗ" in created.text
    assert "Lời mời đã xếp hàng: 1" in created.text  # the one subscriber of TDP1 (no groups)
    await stack.dispatcher.drain()
    invitation = (await visitor.history())["messages"][-1]
    assert "Khám sức khoẻ miễn phí: 25/11/2026, 07:30–09:30" in invitation["text"]
    assert "Nhà văn hoá TDP1" in invitation["text"] and "nhịn ăn" in invitation["text"]
    assert "CCCD hoặc VNeID, thẻ BHYT" in invitation["text"]

    times = await visitor.tap("Chọn giờ khám", [invitation])
    assert buttons(times)[:4] == ["07:30 (còn 2 chỗ)", "08:00 (còn 2 chỗ)", "08:30 (còn 2 chỗ)",
                                  "09:00 (còn 2 chỗ)"]
    consent = await visitor.tap("07:30 (còn 2 chỗ)", times)
    assert "họ tên, năm sinh và số điện thoại" in consent[0]["text"]
    await visitor.tap("Tôi đồng ý", consent)
    await visitor.say(NAME)
    await visitor.say("1957")
    booked = await visitor.say(PHONE)
    assert "Đã đặt lịch" in booked[0]["text"]
    assert "Lịch khám của bác/anh/chị: 07:30, 25/11/2026" in booked[1]["text"]

    bookings, reminders = await checkup_rows(stack)
    assert [(b.full_name, b.birth_year, b.phone, b.area_code) for b in bookings] == [
        (NAME, 1957, PHONE, "TDP1")]
    # The day before at 18:00 and the morning at 07:00, Vietnam time.
    assert [r.not_before for r in reminders] == [datetime(2026, 11, 24, 11, 0, tzinfo=UTC),
                                                 datetime(2026, 11, 25, 0, 0, tzinfo=UTC)]

    # Move to 08:00: the old reminders are cancelled, the new ones name 08:00.
    choices = await visitor.tap("Đổi giờ khám", booked)
    moved = await visitor.tap("08:00 (còn 2 chỗ)", choices)
    assert "Xong, đã đổi giờ khám" in moved[0]["text"]
    assert "08:00, 25/11/2026" in moved[1]["text"]
    _bookings, reminders = await checkup_rows(stack)
    assert [r.status for r in reminders] == ["cancelled", "cancelled", "pending", "pending"]
    async with stack.bot.services.db.sessions() as session:
        taken = [s.booked for s in (await session.execute(
            select(CheckupSlot).order_by(CheckupSlot.starts_at))).scalars()]  # fmt: skip
    assert taken == [0, 1, 0, 0]

    # The evening before: the reminder reaches the page, with the new time.
    clock.now = datetime(2026, 11, 24, 11, 0, 30, tzinfo=UTC)
    await stack.dispatcher.drain()
    last = (await visitor.history())["messages"][-1]["text"]
    assert "ngày mai bác/anh/chị khám sức khoẻ miễn phí lúc 08:00" in last

    # At the station: the list (in the staff group) and "came".
    clock.now = datetime(2026, 11, 25, 1, 10, tzinfo=UTC)
    (listing,) = await stack.staff_says("/dskham 1")
    assert "Buổi khám 1: 1 người đặt, 0 người đã đến." in listing.text
    assert f"08:00 {NAME} (1957, TDP1) 0987***321" in listing.text
    data = listing.reply_markup["inline_keyboard"][0][0]["callback_data"]
    (marked,) = await stack.staff_taps(data, listing.message_id)
    assert "1 người đặt, 1 người đã đến." in marked.text and f"✅ 08:00 {NAME}" in marked.text
    bookings, _rows = await checkup_rows(stack)
    assert bookings[0].status == "attended"
    # Invited once to the satisfaction survey; the answers are stored without who gave them.
    await stack.dispatcher.drain()
    invite = (await visitor.history())["messages"][-1]
    assert "Cảm ơn bác/anh/chị đã đến trạm" in invite["text"]
    question = await visitor.tap("Trả lời khảo sát", [invite])
    for score in ("5 – Rất hài lòng", "4 – Hài lòng", "5 – Rất hài lòng", "3 – Bình thường",
                  "5 – Rất hài lòng"):
        assert "Câu " in question[-1]["text"]
        question = await visitor.tap(score, question)
    assert "Cảm ơn bác/anh/chị! Câu trả lời giúp trạm" in question[-1]["text"]
    async with stack.bot.services.db.sessions() as session:
        from storage.models import SurveyInvitation, SurveyResponse

        (response,) = (await session.execute(select(SurveyResponse))).scalars()
        (invitation,) = (await session.execute(select(SurveyInvitation))).scalars()
    assert response.answers == {"A": 5, "B": 4, "C": 5, "D": 3, "E": 5}
    assert response.trigger == "checkup" and response.completed_at is not None
    assert invitation.response_id is None and invitation.finished
    # The list with the resident's name is not kept in the message log.
    async with stack.bot.services.db.sessions() as session:
        from storage.models import MessageLog

        logged = [m.text or "" for m in (await session.execute(select(MessageLog))).scalars()]
    assert not any(NAME in t for t in logged if "Buổi khám" in t)


async def test_consent_refused_stores_nothing(stack: WebStack, visitor: WebVisitor) -> None:
    await visitor.say("/start TDP1")
    await stack.staff_says(NEW_SESSION)
    sessions = await visitor.say("/khamsuckhoe")
    times = await visitor.tap(buttons(sessions)[0], sessions)
    consent = await visitor.tap("07:30 (còn 2 chỗ)", times)
    refused = await visitor.tap("Không, cảm ơn", consent)
    assert "không lưu gì cả" in refused[0]["text"]
    bookings, reminders = await checkup_rows(stack)
    assert bookings == [] and reminders == []
    async with stack.bot.services.db.sessions() as session:
        from storage.models import Person

        people = list((await session.execute(select(Person))).scalars())
    assert all(p.consent_at is None and p.phone is None for p in people)
    # Typing a name now is not taken as booking data.
    await visitor.say(NAME)
    assert (await checkup_rows(stack))[0] == []
