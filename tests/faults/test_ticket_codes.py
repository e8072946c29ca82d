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


async def test_the_counter_continues_after_codes_filed_before_the_upgrade(
    db_url: str, tmp_path
) -> None:  # noqa: ANN001
    """Upgrading a station that already has tickets: the next code follows the highest one, and a
    counter that lags its codes (a restored backup) is moved past them instead of failing."""
    from datetime import UTC, datetime

    from sqlalchemy import text, update

    from storage import tickets
    from storage.db import open_database, upgrade
    from storage.models import TicketCounter
    from tests.conftest import reset_postgres

    url = db_url
    if url.startswith("postgresql"):
        await reset_postgres(url)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0001")
    db = open_database(url)
    async with db.sessions() as session, session.begin():
        for code in ("PA-2026-000007", "PA-2026-000012", "PA-2025-000040"):
            await session.execute(text(
                "INSERT INTO tickets (code, channel, chat_id, category, urgency, text, anonymous,"
                " status, created_at) VALUES (:code, 'web', 'x', 'other', 'normal', '…', false,"
                " 'closed', :now)"
            ), {"code": code, "now": datetime(2026, 1, 2, tzinfo=UTC)})  # fmt: skip
    await db.close()
    await upgrade(url)
    db = open_database(url)
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    new = tickets.NewTicket(None, "web", "y", "other", "normal", "…")
    try:
        async with db.sessions() as session, session.begin():
            first = await tickets.open_ticket(session, new, year=2026, now=now, accept_due=now,
                                              resolve_due=now)
            other_year = await tickets.open_ticket(session, new, year=2025, now=now,
                                                   accept_due=now, resolve_due=now)
        assert (first.code, other_year.code) == ("PA-2026-000013", "PA-2025-000041")
        async with db.sessions() as session, session.begin():  # the counter lags (a restore)
            await session.execute(update(TicketCounter).values(last_number=11))  # 12 is taken
        async with db.sessions() as session, session.begin():
            after = await tickets.open_ticket(session, new, year=2026, now=now, accept_due=now,
                                              resolve_due=now)
        assert after.code == "PA-2026-000014"
    finally:
        await db.close()
