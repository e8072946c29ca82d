"""Personal reminders: consent first, dose dates from the schedule table, one message per reminder."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from scheduler.reminders import sweep_reminders
from storage.models import Outbox, Reminder
from tests.transcript import Transcript


async def _count(services, model) -> int:
    async with services.db.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_child_vaccination_reminders_ask_consent_then_list_doses(
    healthbot, services, clock
) -> None:
    chat = Transcript(healthbot)
    await chat.say("/nhaclich")
    await chat.tap("Nhắc lịch tiêm cho trẻ")
    assert "/dulieu" in chat.text and "đồng ý" in chat.text  # consent says what and how to delete
    assert await _count(services, Reminder) == 0
    await chat.tap("Tôi đồng ý")
    await chat.say("Bin")
    birth = (clock.now + timedelta(hours=7)).date() - timedelta(days=50)
    await chat.say("32/13/2026")
    assert "ngày/tháng/năm" in chat.text  # not a real date: asked again
    await chat.say(birth.strftime("%d/%m/%Y"))
    text = chat.text
    penta_day = (birth + timedelta(days=60)).strftime("%d/%m/%Y")
    assert f"{penta_day}: DPT-VGB-Hib (5 trong 1)" in text
    assert "Trạm Y tế" in text and "sổ tiêm chủng" in text
    assert "Thông tư 10/2024/TT-BYT" in text  # the source line
    assert "Phế cầu" not in text  # unverified rows of the table never drive a reminder
    assert await _count(services, Reminder) > 3


async def test_due_reminder_is_sent_once_in_the_residents_language(
    healthbot, services, clock, settings
) -> None:
    chat = Transcript(healthbot)
    await chat.say("/nhaclich")
    await chat.tap("rem:child")
    await chat.tap("rem:consent:child")
    await chat.say("Na")
    today = (clock.now + timedelta(hours=7)).date()
    await chat.say((today - timedelta(days=55)).strftime("%d/%m/%Y"))
    assert (
        await sweep_reminders(services.db, settings, services.library, clock.now) == 0
    )  # not due yet
    clock.advance(days=3)  # 2 days before the 60-day doses, 08:00+ in Hanoi
    queued = await sweep_reminders(services.db, settings, services.library, clock.now)
    again = await sweep_reminders(services.db, settings, services.library, clock.now)
    assert queued == 1 and again == 0
    async with services.db.sessions() as session:
        row = (await session.execute(select(Outbox))).scalar_one()
    assert row.chat_id == "resident-1" and row.channel == "web"
    assert "Na" in row.payload["text"] and "5 trong 1" in row.payload["text"]
    assert settings.station.phone in row.payload["text"]
    assert row.payload["source"].startswith("Nguồn")


async def test_bhyt_expiry_reminders_point_to_renewal(healthbot, services, clock, settings) -> None:
    chat = Transcript(healthbot)
    await chat.say("/ngonngu en")
    await chat.say("/reminders")
    await chat.tap("BHYT card expiry reminder")
    await chat.tap("I agree")
    today = (clock.now + timedelta(hours=7)).date()
    expiry = today + timedelta(days=40)
    await chat.say("01/01/2020")
    assert "expiry date" in chat.text
    await chat.say(expiry.strftime("%d/%m/%Y"))
    assert "Saved" in chat.text
    assert await _count(services, Reminder) == 2  # 30 and 7 days before
    clock.advance(days=11)
    assert await sweep_reminders(services.db, settings, services.library, clock.now) == 1
    async with services.db.sessions() as session:
        row = (await session.execute(select(Outbox))).scalar_one()
    assert "BHYT card expires" in row.payload["text"]
    assert row.payload["source"]


async def test_reminders_show_in_my_data_and_are_erased_with_it(healthbot, services, clock) -> None:
    chat = Transcript(healthbot)
    await chat.say("/nhaclich")
    await chat.tap("rem:child")
    await chat.tap("rem:consent:child")
    await chat.say("Su")
    await chat.say(date(2026, 10, 1).strftime("%d/%m/%Y"))
    await chat.say("/dulieu")
    assert "Số trẻ đăng ký nhắc lịch tiêm: 1" in chat.text
    assert "Ngày đồng ý lưu thông tin: 23/11/2026" in chat.text
    await chat.tap("erase")
    await chat.tap("erase_yes")
    assert await _count(services, Reminder) == 0
