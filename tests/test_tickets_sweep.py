"""The overdue sweep with a fake clock: exactly one reminder in the staff chat, one escalation."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.config import Settings
from bot.feedback.sweeps import sweep_overdue
from bot.model import WEB, Outbound
from storage.models import Outbox, Ticket, TicketEvent
from tests.conftest import FakeClock
from tests.test_feedback_flow import STAFF_GROUP, STAFF_ID, file_feedback, with_staff
from tests.transcript import Transcript

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
async def bot(settings: Settings, clock: FakeClock):  # noqa: ANN201
    services = build_services(with_staff(settings), clock=clock)
    yield build_bot(services)
    await services.db.close()


async def rows_to(bot, chat_id: str) -> list[Outbox]:  # noqa: ANN001
    async with bot.services.db.sessions() as session:
        stmt = select(Outbox).where(Outbox.chat_id == chat_id).order_by(Outbox.id)
        return list((await session.execute(stmt)).scalars().all())


async def test_overdue_ticket_is_reminded_once_and_escalated_once(
    bot,
    clock: FakeClock,  # noqa: ANN001
) -> None:
    await file_feedback(Transcript(bot, WEB, "web", "resident-1"))  # Mon 23/11 10:00
    services = bot.services
    # On time: nothing to do. 24/11 is a holiday, so the 8 working hours end Wed 25/11 10:00.
    assert await sweep_overdue(services, datetime(2026, 11, 25, 9, 59, tzinfo=VN)) == 0

    late = datetime(2026, 11, 25, 10, 5, tzinfo=VN)
    assert await sweep_overdue(services, late) == 1
    assert await sweep_overdue(services, late + timedelta(minutes=5)) == 0
    staff_rows = await rows_to(bot, STAFF_GROUP)
    reminder = Outbound.from_payload(staff_rows[-1].payload)
    assert len(staff_rows) == 2 and "PA-2026-000001" in reminder.text and "quá hạn" in reminder.text

    # Still not accepted a further 8 working hours later (Thu 26/11 10:05): the admin is told.
    assert await sweep_overdue(services, datetime(2026, 11, 26, 9, 0, tzinfo=VN)) == 0
    assert await sweep_overdue(services, datetime(2026, 11, 26, 10, 5, tzinfo=VN)) == 1
    for later in (
        datetime(2026, 11, 26, 11, 0, tzinfo=VN),
        datetime(2026, 12, 10, 9, 0, tzinfo=VN),
    ):
        assert await sweep_overdue(services, later) == 0
    (escalation,) = await rows_to(bot, STAFF_ID)
    card = Outbound.from_payload(escalation.payload)
    assert "PA-2026-000001" in card.text and "quá hạn" in card.text
    assert len(await rows_to(bot, STAFF_GROUP)) == 2

    async with services.db.sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
        assert ticket.reminded_at is not None and ticket.escalated_at is not None
        actions = (await session.execute(select(TicketEvent.action))).scalars().all()
    assert actions.count("reminded") == 1 and actions.count("escalated") == 1


async def test_an_accepted_ticket_on_time_is_left_alone(bot, clock: FakeClock) -> None:  # noqa: ANN001
    await file_feedback(Transcript(bot, WEB, "web", "resident-1"))
    staff = Transcript(bot, WEB, "telegram", STAFF_GROUP, user_id=STAFF_ID, chat_kind="group")
    await staff.say("/tiepnhan PA-2026-000001")
    assert "Y sĩ Lan" in staff.text
    # Accepted in time; the resolve deadline (5 working days) is Tue 1/12 10:00.
    assert await sweep_overdue(bot.services, datetime(2026, 11, 30, 16, 0, tzinfo=VN)) == 0
    assert await sweep_overdue(bot.services, datetime(2026, 12, 1, 10, 30, tzinfo=VN)) == 1


async def test_a_backlog_larger_than_one_batch_is_swept_completely(bot) -> None:  # noqa: ANN001
    from bot.feedback.sweeps import SWEEP_BATCH

    count = SWEEP_BATCH + 3
    for i in range(count):
        chat = Transcript(bot, WEB, "web", f"r{i}")
        await chat.say("/gopy")
        await chat.tap("fb:cat:other")
        await chat.say("Nội dung")
        await chat.tap("fb:more")
        await chat.tap("fb:anon")
        await chat.tap("fb:send")
    late = datetime(2026, 11, 25, 10, 5, tzinfo=VN)
    assert await sweep_overdue(bot.services, late) == count
    assert await sweep_overdue(bot.services, late) == 0


async def test_the_running_bot_reminds_staff_of_an_overdue_ticket(bot, clock: FakeClock) -> None:  # noqa: ANN001
    """The sweep is one of the bot's housekeeping loops, not only a function tests call."""
    import asyncio

    from bot.maintenance import start_maintenance

    await file_feedback(Transcript(bot, WEB, "web", "resident-1"))  # Mon 23/11 10:00
    clock.now = datetime(2026, 11, 25, 10, 5, tzinfo=VN).astimezone(clock.now.tzinfo)
    stop = asyncio.Event()
    loops = start_maintenance(bot.services, stop)
    try:
        for _ in range(200):
            if len(await rows_to(bot, STAFF_GROUP)) == 2:
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.gather(*loops)
    reminder = Outbound.from_payload((await rows_to(bot, STAFF_GROUP))[-1].payload)
    assert "PA-2026-000001" in reminder.text and "quá hạn" in reminder.text
