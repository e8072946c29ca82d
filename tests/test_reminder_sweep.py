"""The set-based reminder sweep: the right chat for each person, batch after batch, never twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

import scheduler.reminders as reminders
from scheduler.reminders import sweep_reminders
from storage.db import open_database
from storage.models import Chat, Outbox, Person, Reminder

PEOPLE = 30


async def populate(db, now) -> None:  # noqa: ANN001
    """Person i has an old web chat and a newer Telegram chat; every 10th blocked Telegram; the
    last person has no reachable chat at all. Each has one BHYT reminder due, one not yet due."""
    async with db.sessions() as session, session.begin():
        await session.execute(insert(Person), [
            {"id": i, "locale": "en" if i % 2 else "vi"} for i in range(1, PEOPLE + 1)])
        chats = []
        for i in range(1, PEOPLE + 1):
            last = PEOPLE
            chats.append({"channel": "web", "external_id": f"w{i}", "kind": "private",
                          "person_id": i, "last_inbound_at": now - timedelta(days=5),
                          "active": i != last})
            chats.append({"channel": "telegram", "external_id": str(i), "kind": "private",
                          "person_id": i, "last_inbound_at": now - timedelta(days=1),
                          "unreachable_reason": "blocked" if i % 10 == 0 or i == last else None})
        await session.execute(insert(Chat), chats)
        await session.execute(insert(Reminder), [
            {"person_id": i, "kind": "bhyt", "due_at": now - timedelta(minutes=1),
             "payload": {"expiry": "2026-12-31"}, "dedupe_key": f"bhyt:{i}"}
            for i in range(1, PEOPLE + 1)] + [
            {"person_id": i, "kind": "bhyt", "due_at": now + timedelta(days=1),
             "payload": {"expiry": "2027-01-31"}, "dedupe_key": f"bhyt-later:{i}"}
            for i in range(1, PEOPLE + 1)])


async def test_each_due_reminder_goes_once_to_the_newest_reachable_chat(
    services, settings, clock, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    monkeypatch.setattr(reminders, "BATCH", 7)  # several batches in one sweep
    await populate(services.db, clock.now)
    queued = await sweep_reminders(services.db, settings, services.library, clock.now)
    again = await sweep_reminders(services.db, settings, services.library, clock.now)
    assert queued == PEOPLE - 1 and again == 0  # the last person has nowhere to be written to
    async with services.db.sessions() as session:
        rows = (await session.execute(select(Outbox))).scalars().all()
        unsent = (await session.execute(
            select(Reminder).where(Reminder.sent_at.is_(None)))).scalars().all()
    to = {r.dedupe_key: (r.channel, r.chat_id) for r in rows}
    assert to["reminder:1"] == ("telegram", "1")  # the newest chat
    assert to["reminder:10"] == ("web", "w10")  # Telegram blocked: the older web chat
    assert len(unsent) == PEOPLE  # exactly the ones due tomorrow
    by_locale = Counter("BHYT card expires" in r.payload["text"] for r in rows)
    assert by_locale == {True: 15, False: 14}  # each in the person's own language
    assert all(("31/12/2026" in r.payload["text"] or "31 Dec 2026" in r.payload["text"])
               and r.payload["source"] for r in rows)


async def test_two_workers_sweeping_at_once_queue_each_reminder_once(
    services, settings, clock, db_url, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("one worker on SQLite")
    monkeypatch.setattr(reminders, "BATCH", 5)
    await populate(services.db, clock.now)
    other = open_database(db_url)
    try:
        counts = await asyncio.gather(
            sweep_reminders(services.db, settings, services.library, clock.now),
            sweep_reminders(other, settings, services.library, clock.now),
        )
    finally:
        await other.close()
    assert sum(counts) == PEOPLE - 1
    async with services.db.sessions() as session:
        keys = (await session.execute(select(Outbox.dedupe_key))).scalars().all()
    assert len(keys) == len(set(keys)) == PEOPLE - 1
