"""Fault test: many residents press Send at the same moment; every one gets a ticket and its own code.

Before the counter-row allocator (max(code)+1 with retries), 40 residents at once on PostgreSQL left
28 with "something went wrong" and no ticket.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.model import WEB
from storage.models import Ticket
from tests.test_feedback_flow import with_staff
from tests.transcript import Transcript

pytestmark = pytest.mark.faults

RESIDENTS = 40
CODE = re.compile(r"PA-2026-\d{6}")


async def walk_to_review(chat: Transcript, n: int) -> None:
    await chat.say("/gopy")
    await chat.tap("Vệ sinh môi trường / ổ bọ gậy")
    await chat.say(f"Ổ bọ gậy số {n} ở ngõ {n}")
    await chat.tap("Tiếp tục")
    await chat.tap("Gửi ẩn danh")
    assert "Vui lòng kiểm tra" in chat.text


async def test_forty_residents_filing_at_once_get_forty_tickets_with_distinct_codes(
    settings, clock  # noqa: ANN001
) -> None:
    services = build_services(with_staff(settings), clock=clock)
    bot = build_bot(services)
    try:
        chats = [Transcript(bot, WEB, "web", f"resident-{n}") for n in range(RESIDENTS)]
        for n, chat in enumerate(chats):
            await walk_to_review(chat, n)
        # Everyone presses Send at once.
        started = time.monotonic()
        await asyncio.gather(*(chat.tap("Gửi") for chat in chats))
        print(f"\n{RESIDENTS} filings at once: {time.monotonic() - started:.2f} s")
        told = [sorted(set(CODE.findall(chat.text))) for chat in chats]
        assert all(len(codes) == 1 for codes in told), [c.text for c in chats if not CODE.search(c.text)]
        async with services.db.sessions() as session:
            tickets = (await session.execute(select(Ticket).order_by(Ticket.id))).scalars().all()
        assert len(tickets) == RESIDENTS
        codes = [t.code for t in tickets]
        assert len(set(codes)) == RESIDENTS
        # Each resident was told the code of their own ticket, and the numbers have no gaps.
        by_text = {t.text: t.code for t in tickets}
        for n, codes_told in enumerate(told):
            assert by_text[f"Ổ bọ gậy số {n} ở ngõ {n}"] == codes_told[0]
        assert sorted(codes) == [f"PA-2026-{i:06d}" for i in range(1, RESIDENTS + 1)]
    finally:
        await services.db.close()
