"""Erasure audited table by table: a resident uses everything, asks to be deleted, and a scan of
every table in `storage.models` finds none of the values they gave or that were written about them.

The scan iterates over the models' metadata, so a table added later is scanned too; a table
without an erasure rule in `storage.erasure.RULES` (or without a line in docs/privacy.md) fails.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.model import TELEGRAM, Outbound
from scheduler.reminders import sweep_reminders
from storage.erasure import RULES
from storage.models import Base, CheckupBooking, Ticket
from tests.test_feedback_flow import STAFF_GROUP, STAFF_ID, bot, mark_sent, outbox_rows  # noqa: F401
from tests.transcript import Transcript

pytestmark = pytest.mark.faults

PRIVACY_DOC = Path(__file__).parents[2] / "docs" / "privacy.md"
USER_ID = "731904256"
NAME = "Nguyễn Thị Bí Ẩn"
PHONE = "0912345678"
COMPLAINT = "Chuột chạy đầy quầy thịt chợ Hàng Bè số 77"
ADDITION = "Thêm: cả ngõ 77B cũng có chuột"
ANSWER = "Trạm đã phun thuốc diệt chuột ở chợ Hàng Bè 77"
PHOTO = "https://example.org/cho-hang-be-77.jpg"
CHILD = "Bé Bống Tí"
BIRTH = date(2026, 9, 14)
GROUP_QUESTION = "Bống Tí nhà tôi sốt ba ngày thì sao"
GROUP = "-100555"
BIRTH_YEAR = 1946


def secrets_of_the_resident() -> list[str]:
    return [
        USER_ID, NAME, PHONE, "912345678", "0912 345 678", COMPLAINT, "ngõ 77B", ANSWER, PHOTO,
        "cho-hang-be-77", CHILD, "Bống Tí", BIRTH.isoformat(), BIRTH.strftime("%d/%m/%Y"),
        "21.0345", "105.8521", GROUP_QUESTION,
    ]  # fmt: skip


async def everything_stored(bot) -> dict[str, list[str]]:  # noqa: ANN001, F811
    """Every row of every table, as text."""
    stored: dict[str, list[str]] = {}
    async with bot.services.db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            stored[table.name] = [
                json.dumps([str(v) if not isinstance(v, dict | list) else v for v in row],
                           ensure_ascii=False)
                for row in rows
            ]  # fmt: skip
    return stored


def found(stored: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [
        (table, secret)
        for table, rows in stored.items()
        for secret in secrets_of_the_resident()
        for row in rows
        if secret in row
    ]


async def use_everything(bot) -> Transcript:  # noqa: ANN001, F811
    resident = Transcript(bot, TELEGRAM, "telegram", USER_ID)
    await resident.send(text="/start", display_name=NAME)
    await resident.say("/theodoi")
    await resident.tap(resident.buttons()[0].data)  # the first topic
    # A ticket with photo, location and phone, then an addition.
    await resident.say("/gopy")
    await resident.tap("Vệ sinh môi trường / ổ bọ gậy")
    await resident.say(COMPLAINT)
    await resident.send(photo=PHOTO, text="")
    from bot.model import Location

    await resident.send(location=Location(21.0345, 105.8521), text="")
    await resident.tap("Tiếp tục")
    await resident.tap("Để lại số điện thoại")
    await resident.say(PHONE)
    await resident.tap("Gửi")
    assert "PA-2026-000001" in resident.text
    await resident.say(f"/bosung PA-2026-000001 {ADDITION}")
    # The staff answer it (a reply to the card in the staff group).
    card = (await outbox_rows(bot, STAFF_GROUP))[0]
    await mark_sent(bot, card, "501")
    staff = Transcript(bot, TELEGRAM, "telegram", STAFF_GROUP, user_id=STAFF_ID, chat_kind="group")
    await staff.send(text=ANSWER, reply_to_message_id="501")
    # A child registered for vaccine reminders, one reminder queued.
    await resident.say("/nhaclich")
    await resident.tap("rem:child")
    if any(b.data == "rem:consent:child" for b in resident.buttons()):
        await resident.tap("rem:consent:child")
    await resident.say(CHILD)
    await resident.say(BIRTH.strftime("%d/%m/%Y"))
    services = bot.services
    services.clock.advance(days=55)  # type: ignore[attr-defined]
    assert await sweep_reminders(services.db, services.settings, services.library,
                                 services.clock()) >= 1
    # A check-up booked with name, birth year and phone (issue 20), then listed for the staff.
    staff_chat = Transcript(bot, TELEGRAM, "telegram", STAFF_ID)
    day = (services.clock() + timedelta(days=3)).strftime("%d/%m/%Y")
    await staff_chat.say(f"/taokham {day} 07:30-08:00; Trạm Y tế; *; 5")
    assert "Đã tạo buổi khám" in staff_chat.text
    await resident.say("/khamsuckhoe")
    await resident.tap(resident.buttons()[0].data)
    await resident.tap(resident.buttons()[0].data)  # the only time
    await resident.tap("Tôi đồng ý")
    await resident.say(NAME)
    await resident.say(str(BIRTH_YEAR))
    await resident.say(PHONE)
    assert "Đã đặt lịch" in resident.text
    await staff_chat.say("/dskham 1")
    assert NAME in staff_chat.text
    # A question in a resident group.
    group = Transcript(bot, TELEGRAM, "telegram", GROUP, user_id=USER_ID, chat_kind="group")
    await group.send(text=f"/hoi {GROUP_QUESTION}", addressed=True, display_name=NAME)
    return resident


def test_every_table_has_an_erasure_rule() -> None:
    assert set(RULES) == set(Base.metadata.tables), (
        "tables without a rule in storage.erasure.RULES: "
        f"{sorted(set(Base.metadata.tables) - set(RULES))}; rules for no table: "
        f"{sorted(set(RULES) - set(Base.metadata.tables))}"
    )


def test_docs_privacy_lists_every_table() -> None:
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", PRIVACY_DOC.read_text(encoding="utf-8"), re.M))
    assert listed == set(Base.metadata.tables)


async def test_erasure_leaves_none_of_the_residents_values_in_any_table(bot) -> None:  # noqa: ANN001, F811
    resident = await use_everything(bot)
    before = found(await everything_stored(bot))
    # The scan can see them: each value is somewhere before the erasure.
    seen = {secret for _table, secret in before}
    print(f"\nbefore erasure: {len(seen)} of {len(secrets_of_the_resident())} values in "
          f"{len({t for t, _ in before})} tables: {sorted({t for t, _ in before})}")
    assert seen >= {USER_ID, NAME, PHONE, COMPLAINT, ANSWER, PHOTO, CHILD, "ngõ 77B",
                    BIRTH.isoformat(), "21.0345", GROUP_QUESTION}, seen  # fmt: skip
    assert {table for table, _ in before} >= {
        "identities", "chats", "people", "tickets", "ticket_events", "outbox", "message_log",
        "children", "reminders", "conversation_states", "checkup_bookings",
    }  # fmt: skip
    await resident.say("/dulieu")
    await resident.tap("erase")
    await resident.tap("erase_yes")
    assert "đã được xoá" in resident.text or "đã xoá" in resident.text
    left = found(await everything_stored(bot))
    assert left == [], left
    # The station keeps its statistics: the ticket, stripped, and the delivery counts.
    async with bot.services.db.sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert ticket.code == "PA-2026-000001" and ticket.category == "sanitation"
    assert ticket.person_id is None and ticket.phone is None
    assert len(await outbox_rows(bot)) >= 3
    # The check-up booking stays as a count for coverage: area and attendance, nobody's details.
    async with bot.services.db.sessions() as session:
        booking = (await session.execute(select(CheckupBooking))).scalar_one()
    assert (booking.full_name, booking.birth_year, booking.phone, booking.person_id) == (
        None, None, None, None)


async def test_unsent_messages_to_an_erased_resident_are_cancelled(bot) -> None:  # noqa: ANN001, F811
    resident = await use_everything(bot)
    pending_before = [r for r in await outbox_rows(bot, USER_ID) if r.status == "pending"]
    assert pending_before  # the staff answer and the reminder are still queued
    await resident.say("/dulieu")
    await resident.tap("erase")
    await resident.tap("erase_yes")
    rows = await outbox_rows(bot)
    erased = [r for r in rows if r.payload == {"erased": True}]
    assert all(r.status != "pending" for r in erased)
    assert {r.id for r in pending_before} <= {r.id for r in erased}
    # What is left for the staff is about other people only.
    for row in rows:
        if row.payload != {"erased": True}:
            assert COMPLAINT not in Outbound.from_payload(row.payload).text


async def test_finished_outbox_rows_are_purged_after_the_retention_period(bot) -> None:  # noqa: ANN001, F811
    from bot.maintenance import purge_old_messages

    await use_everything(bot)
    card = (await outbox_rows(bot, STAFF_GROUP))[0]
    assert card.status == "sent"
    days = bot.services.settings.database.outbox_retention_days
    clock = bot.services.clock
    clock.now = card.created_at + timedelta(days=days - 1)  # type: ignore[attr-defined]
    await purge_old_messages(bot.services)
    assert card.id in {r.id for r in await outbox_rows(bot)}  # not yet
    bot.services.clock.advance(days=2)  # type: ignore[attr-defined]
    await purge_old_messages(bot.services)
    left = await outbox_rows(bot)
    assert card.id not in {r.id for r in left}
    assert all(r.status in ("pending", "held", "sending") for r in left)  # unsent ones stay
