"""Never overbooked (issue 20): 50 residents send the last booking step for 10 places at the same
moment, through the engine, on SQLite and PostgreSQL; exactly 10 bookings exist afterwards, the
slot counts 10, and the 40 others are told the time is full (nothing of theirs stored).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.model import WEB
from storage import checkups
from storage.models import CheckupBooking, CheckupSlot
from tests.transcript import Transcript

RESIDENTS = 50
PLACES = 10


async def test_fifty_residents_for_ten_places_at_once_end_with_exactly_ten(healthbot) -> None:  # noqa: ANN001
    async with healthbot.services.db.sessions() as session, session.begin():
        row = await checkups.create_session(
            session, starts_at=datetime(2026, 12, 2, 0, 30, tzinfo=UTC),
            ends_at=datetime(2026, 12, 2, 1, 0, tzinfo=UTC), place="Trạm Y tế", areas=[],
            per_slot=PLACES)  # one 30-minute slot with 10 places
        (slot,) = await checkups.slots(session, row.id)
    chats = [Transcript(healthbot, WEB, "web", f"race-{n:02d}") for n in range(RESIDENTS)]
    for n, chat in enumerate(chats):  # everyone reaches the last step first
        await chat.send(button=f"ck:ok:{slot.id}")
        await chat.say(f"Người Thứ {n:02d}")
        await chat.say("1950")
    await asyncio.gather(*(chat.say(f"09123450{n:02d}") for n, chat in enumerate(chats)))

    booked = [c for c in chats if "Đã đặt lịch" in c.text]
    full = [c for c in chats if "vừa kín chỗ" in c.text or "đã kín chỗ" in c.text]
    assert (len(booked), len(full)) == (PLACES, RESIDENTS - PLACES)
    async with healthbot.services.db.sessions() as session:
        count = (await session.execute(select(func.count()).select_from(CheckupBooking))).scalar()
        taken = (await session.execute(select(CheckupSlot.booked))).scalar()
        names = set((await session.execute(select(CheckupBooking.full_name))).scalars())
    assert (count, taken) == (PLACES, PLACES)
    # The bookings are those of the residents who were told "booked", nobody else's.
    assert names == {f"Người Thứ {chats.index(c):02d}" for c in booked}
