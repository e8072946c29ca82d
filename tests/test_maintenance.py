"""Housekeeping loops: retention really deletes old history; a failing task does not stop the loop."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.maintenance import purge_old_messages, run_periodic
from storage import people
from storage.models import MessageLog


async def test_retention_task_deletes_history_older_than_the_configured_days(services, clock) -> None:
    async with services.db.sessions() as session, session.begin():
        session.add(MessageLog(channel="web", chat_id="a", direction="in", text="x",
                               created_at=clock.now - timedelta(days=91)))
        session.add(MessageLog(channel="web", chat_id="a", direction="in", text="y",
                               created_at=clock.now - timedelta(days=89)))
    assert await purge_old_messages(services) == 1
    async with services.db.sessions() as session:
        assert [m.text for m in await people.recent_messages(session, "web", "a")] == ["y"]


async def test_a_failing_task_is_logged_and_the_loop_goes_on(services, caplog) -> None:
    calls = 0
    stop = asyncio.Event()

    async def flaky(_services: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        stop.set()

    await asyncio.wait_for(run_periodic(services, 0.01, flaky, stop), timeout=5)
    assert calls == 2
    assert "periodic task flaky failed" in caplog.text
