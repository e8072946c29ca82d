"""The ticket repository: per-year codes, owner-only lookups, the audit trail, concurrent filing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage import tickets
from storage.db import open_database
from storage.models import Person

NOW = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 23:00 in Vietnam, still 2026 there


def draft(person_id: int | None) -> tickets.NewTicket:
    return tickets.NewTicket(
        person_id=person_id, channel="web", chat_id=f"c{person_id}", category="other",
        urgency="normal", text="…",
    )  # fmt: skip


async def file(session, person_id: int | None, year: int, now: datetime = NOW):  # noqa: ANN001, ANN201
    return await tickets.open_ticket(
        session, draft(person_id), year=year, now=now, accept_due=now, resolve_due=now
    )


async def test_codes_count_per_year_and_lookups_are_owner_only(db_url: str) -> None:
    db = open_database(db_url)
    async with db.sessions() as session, session.begin():
        alice, bob = Person(), Person()
        session.add_all([alice, bob])
        await session.flush()
        first = await file(session, alice.id, 2026)
        second = await file(session, bob.id, 2026)
        next_year = await file(session, alice.id, 2027, NOW + timedelta(hours=2))
        assert (first.code, second.code, next_year.code) == (
            "PA-2026-000001", "PA-2026-000002", "PA-2027-000001"
        )  # fmt: skip
        assert await tickets.ticket_for_resident(session, alice.id, code="pa-2026-000001")
        assert await tickets.ticket_for_resident(session, bob.id, code="PA-2026-000001") is None
        assert await tickets.ticket_for_resident(session, bob.id, ticket_id=first.id) is None
        assert await tickets.filed_since(session, alice.id, NOW - timedelta(hours=1)) == 2
        await tickets.add_event(session, first, actor="Y sĩ Lan", action="accepted", now=NOW)
        trail = await tickets.events(session, first.id)
        assert [(e.actor, e.action) for e in trail] == [
            ("resident", "filed"), ("Y sĩ Lan", "accepted")
        ]  # fmt: skip
    await db.close()


async def test_two_workers_filing_at_once_get_different_codes(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    db = open_database(db_url)
    try:
        async with db.sessions() as first:
            async with first.begin():
                one = await file(first, None, 2026)

                async def second_worker() -> str | None:
                    async with db.sessions() as second, second.begin():
                        return (await file(second, None, 2026)).code

                # The second insert waits on the first's uncommitted row, then retries.
                racing = asyncio.create_task(second_worker())
                await asyncio.sleep(0.3)
            two = await asyncio.wait_for(racing, 10)
        assert {one.code, two} == {"PA-2026-000001", "PA-2026-000002"}
    finally:
        await db.close()
