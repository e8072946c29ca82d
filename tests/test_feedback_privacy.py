"""Privacy and abuse: anonymous authors stay hidden, residents only reach their own tickets and
never the staff actions, limits refuse politely, staff can block a sender; duplicates and transfers.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.config import FeedbackCategory
from bot.feedback.categories import DEFAULT_CATEGORIES
from bot.model import TELEGRAM, WEB, Outbound
from storage.models import Person, Ticket
from tests.conftest import FakeClock
from tests.test_feedback_flow import (  # noqa: F401
    STAFF_GROUP,
    STAFF_ID,
    bot,
    file_feedback,
    mark_sent,
    outbox_rows,
    with_staff,
)
from tests.transcript import Transcript

NAME = "Nguyễn Thị Bí"
RESIDENT_ID = "90001"


def staff_chat(bot) -> Transcript:  # noqa: ANN001, F811
    return Transcript(bot, TELEGRAM, "telegram", STAFF_GROUP, user_id=STAFF_ID, chat_kind="group")


async def tickets_in(bot) -> list[Ticket]:  # noqa: ANN001, F811
    async with bot.services.db.sessions() as session:
        return list((await session.execute(select(Ticket).order_by(Ticket.id))).scalars().all())


async def file_with_phone(chat: Transcript) -> None:
    await chat.say("/gopy")
    await chat.tap("Thời gian chờ")
    await chat.say("Chờ khám lâu quá")
    await chat.tap("Tiếp tục")
    await chat.tap("Để lại số điện thoại")
    await chat.say("0912345678")
    await chat.tap("Gửi")


async def test_anonymous_author_is_never_shown_to_staff_yet_gets_the_answer(
    bot,  # noqa: ANN001, F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    resident = Transcript(bot, TELEGRAM, "telegram", RESIDENT_ID)
    await resident.send(text="/start", display_name=NAME)
    await file_with_phone(resident)  # the station now knows this person's name and phone
    await file_feedback(resident, photo=False, how="Gửi ẩn danh")
    rows = await outbox_rows(bot, STAFF_GROUP)
    named, anonymous = (Outbound.from_payload(r.payload) for r in rows)
    assert NAME in named.text and "0912 345 678" in named.text  # given with consent, staff only
    for secret in (NAME, "Bí", RESIDENT_ID, "0912345678", "0912 345 678", "345"):
        assert secret not in anonymous.text
    assert "ẩn danh" in anonymous.text
    staff = staff_chat(bot)
    await mark_sent(bot, rows[1], "88")
    await staff.send(text="Trạm đã kiểm tra.", reply_to_message_id="88")
    for secret in (NAME, RESIDENT_ID, "0912"):
        assert secret not in staff.text
    answer = Outbound.from_payload((await outbox_rows(bot, RESIDENT_ID))[-1].payload)
    assert "Trạm đã kiểm tra." in answer.text and "PA-2026-000002" in answer.text
    # Nothing personal in the logs: no description, no phone, no name.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot"))
    assert "PA-2026-000002" in logged  # the log says what happened, by ticket code only
    for secret in ("Chờ khám lâu quá", "ổ bọ gậy", "0912345678", NAME):
        assert secret not in logged


async def test_a_resident_cannot_see_or_touch_another_residents_ticket(bot) -> None:  # noqa: ANN001, F811
    await file_feedback(Transcript(bot, WEB, "web", "alice"))
    (ticket,) = await tickets_in(bot)
    mallory = Transcript(bot, WEB, "web", "mallory")
    await mallory.say("/phananh")
    assert "PA-2026-000001" not in mallory.text and "chưa gửi" in mallory.text
    await mallory.say("/bosung PA-2026-000001 nội dung giả mạo")
    assert "không tìm thấy" in mallory.text.lower()
    await mallory.send(button=f"fb:add:{ticket.id}")
    assert "không tìm thấy" in mallory.text.lower()
    await staff_chat(bot).say("/dong PA-2026-000001")
    await mallory.send(button=f"fb:rate:{ticket.id}:1")
    assert "không tìm thấy" in mallory.text.lower()
    (ticket,) = await tickets_in(bot)
    assert ticket.rating is None and "giả mạo" not in ticket.text
    assert not await outbox_rows(bot, "mallory")


async def test_a_resident_cannot_use_staff_buttons_or_commands(bot) -> None:  # noqa: ANN001, F811
    await file_feedback(Transcript(bot, WEB, "web", "alice"))
    (ticket,) = await tickets_in(bot)
    before = len(await outbox_rows(bot))
    mallory = Transcript(bot, WEB, "web", "mallory")
    for data in (f"tk:acc:{ticket.id}", f"tk:close:{ticket.id}", f"tk:block:{ticket.id}"):
        await mallory.send(button=data)
        assert "chỉ cán bộ" in mallory.text.lower()
    await mallory.say("/traloi PA-2026-000001 Đã xong")
    assert "cán bộ" in mallory.text.lower()
    # A resident who is in the staff group and replies to the card is refused too.
    card = (await outbox_rows(bot, STAFF_GROUP))[0]
    await mark_sent(bot, card, "77")
    intruder = Transcript(bot, TELEGRAM, "telegram", STAFF_GROUP, user_id="555", chat_kind="group")
    await intruder.send(text="Tôi trả lời hộ", reply_to_message_id="77")
    assert "chỉ cán bộ" in intruder.text.lower()
    (ticket,) = await tickets_in(bot)
    assert ticket.status == "new" and ticket.assignee is None
    assert len(await outbox_rows(bot)) == before


async def test_daily_limit_and_length_limit_refuse_politely(settings, clock: FakeClock) -> None:  # noqa: ANN001
    feedback = replace(with_staff(settings).feedback, max_tickets_per_day=2, max_text_chars=60)
    services = build_services(replace(with_staff(settings), feedback=feedback), clock=clock)
    bot = build_bot(services)  # noqa: F811
    try:
        chat = Transcript(bot, WEB, "web", "busy")
        await file_feedback(chat, photo=False)
        await file_feedback(chat, photo=False)
        await chat.say("/gopy")
        assert "tối đa" in chat.text and not chat.buttons()[0].data.startswith("fb:cat")
        clock.advance(days=1)
        await chat.say("/gopy")
        await chat.tap("Khác")
        await chat.say("x" * 61)
        assert "quá dài" in chat.text and "60" in chat.text
        assert len(await tickets_in(bot)) == 2
    finally:
        await services.db.close()


async def test_staff_can_block_a_sender_without_learning_who_it_is(bot) -> None:  # noqa: ANN001, F811
    resident = Transcript(bot, WEB, "web", "spammer")
    await file_feedback(resident, photo=False)
    staff = staff_chat(bot)
    await staff.say("/chan PA-2026-000001")
    assert "không gửi được" in staff.text and "spammer" not in staff.text
    await resident.say("/gopy")
    assert "chưa thể gửi" in resident.text
    async with bot.services.db.sessions() as session:
        person = (await session.execute(select(Person).where(Person.feedback_blocked))).scalar_one()
    assert person.id == (await tickets_in(bot))[0].person_id


async def test_a_duplicate_follows_the_original(bot) -> None:  # noqa: ANN001, F811
    first, second = Transcript(bot, WEB, "web", "first"), Transcript(bot, WEB, "web", "second")
    await file_feedback(first, photo=False)
    await file_feedback(second, photo=False)
    staff = staff_chat(bot)
    await staff.say("/trung PA-2026-000002 PA-2026-000001")
    told = Outbound.from_payload((await outbox_rows(bot, "second"))[-1].payload)
    assert "PA-2026-000001" in told.text and "trùng" in told.text
    await staff.say("/traloi PA-2026-000001 Đã phun thuốc diệt muỗi.")
    for chat_id in ("first", "second"):
        last = Outbound.from_payload((await outbox_rows(bot, chat_id))[-1].payload)
        assert "phun thuốc" in last.text
    await staff.say("/dong PA-2026-000001")
    closing = Outbound.from_payload((await outbox_rows(bot, "second"))[-1].payload)
    (_, dup) = await tickets_in(bot)
    assert closing.all_buttons()[-1].data == f"fb:rate:{dup.id}:5"
    await second.say("4")  # typed: the rating state was primed for channels without buttons
    (_, dup) = await tickets_in(bot)
    assert dup.status == "duplicate" and dup.rating == 4


async def test_transfer_to_a_category_with_its_own_staff_chat(settings, clock: FakeClock) -> None:  # noqa: ANN001
    cats = [
        replace(c, staff_chat="telegram:-100999") if c.code == "outbreak" else c
        for c in DEFAULT_CATEGORIES
    ]
    base = with_staff(settings)
    feedback = replace(base.feedback, categories=cats)
    services = build_services(replace(base, feedback=feedback), clock=clock)
    bot = build_bot(services)  # noqa: F811
    try:
        await file_feedback(Transcript(bot, WEB, "web", "r1"), photo=False)
        (ticket,) = await tickets_in(bot)
        staff = staff_chat(bot)
        await staff.send(button=f"tk:mv:{ticket.id}")
        await staff.tap("Dịch bệnh trong khu dân cư")
        assert "PA-2026-000001" in staff.text
        (moved,) = await tickets_in(bot)
        assert (moved.category, moved.urgency, moved.staff_chat) == (
            "outbreak",
            "urgent",
            "telegram:-100999",
        )
        card = Outbound.from_payload((await outbox_rows(bot, "-100999"))[0].payload)
        assert "Y sĩ Lan" in card.text and "KHẨN" in card.text
    finally:
        await services.db.close()


def test_default_categories_cover_the_ward_plan_list() -> None:
    names = [c.name_vi for c in DEFAULT_CATEGORIES]
    assert names[-1] == "Khác" and "Thuốc và BHYT" in names
    assert all(isinstance(c, FeedbackCategory) for c in DEFAULT_CATEGORIES)
    assert {c.code for c in DEFAULT_CATEGORIES if c.urgency == "urgent"} == {"outbreak", "food"}


def test_the_example_configuration_lists_the_default_categories() -> None:
    from pathlib import Path

    from bot.config import load_settings

    example = Path(__file__).parent.parent / "config.example.toml"
    assert tuple(load_settings(example, env={}).feedback.categories) == DEFAULT_CATEGORIES


async def test_additions_to_one_ticket_are_capped(bot) -> None:  # noqa: ANN001, F811
    from bot.feedback.filing import MAX_ADDITIONS

    resident = Transcript(bot, WEB, "web", "chatty")
    await file_feedback(resident, photo=False)
    for i in range(MAX_ADDITIONS):
        await resident.say(f"/bosung PA-2026-000001 thêm {i}")
    before = len(await outbox_rows(bot, STAFF_GROUP))
    await resident.say("/bosung PA-2026-000001 thêm nữa")
    assert "nhiều lần" in resident.text
    assert len(await outbox_rows(bot, STAFF_GROUP)) == before


async def test_erasing_my_data_strips_my_tickets_and_no_answer_reaches_my_old_chat(bot) -> None:  # noqa: ANN001, F811
    resident = Transcript(bot, WEB, "web", "alice")
    await file_with_phone(resident)
    staff = staff_chat(bot)
    await staff.say("/dong PA-2026-000001")
    await resident.send(button="fb:rate:1:2")
    await resident.say("Phải chờ gần hai tiếng")
    await resident.say("/dulieu")
    await resident.tap("Xoá dữ liệu của tôi")
    await resident.tap("Có, xoá")
    assert "đã được xoá" in resident.text
    (ticket,) = await tickets_in(bot)
    assert ticket.rating == 2  # the statistics keep the rating ...
    for personal in (ticket.text, ticket.rating_comment or "", ticket.phone or "", ticket.chat_id):
        assert "hai tiếng" not in personal and "Chờ khám" not in personal and "0912" not in personal
    assert ticket.chat_id == "" and ticket.person_id is None
    before = len(await outbox_rows(bot, "alice"))
    await staff.say("/traloi PA-2026-000001 Trạm xin lỗi bác")
    assert len(await outbox_rows(bot, "alice")) == before  # ... and nothing goes to the old chat
    assert not await outbox_rows(bot, "")
