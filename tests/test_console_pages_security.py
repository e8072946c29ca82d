"""The console's calendar, broadcasts and unanswered questions (issue 18, points 3–5) show a
station's staff only their stations' rows. Every route of these pages against every kind of
visitor (no session, forged cookie, each role, no CSRF token) is in tests/test_console_security.py,
which walks the route registry (`a_broadcast` gives it a broadcast to open)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.model import TELEGRAM
from storage.models import BroadcastRecord
from tests.console_helpers import NURSE2, STAFF, console_fixture, fake_fixture  # noqa: F401
from tests.transcript import Transcript


@pytest.fixture
def sqlite_first(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the scoping is the same on both databases")


async def test_another_stations_broadcast_and_questions_stay_hidden(console, sqlite_first) -> None:  # noqa: ANN001
    bot = console.bot
    async with bot.services.db.sessions() as session, session.begin():
        record = BroadcastRecord(kind="staff", created_by="Điều dưỡng Mai", text="Chỉ trạm 1",
                                 audience={"kind": "all", "stations": [1]}, status="scheduled",
                                 scheduled_at=bot.services.clock() + timedelta(days=1))
        session.add(record)
    await Transcript(bot, TELEGRAM, "telegram", "8801").say("Trạm có bán kính lão không?")
    other = await console.sign_in(NURSE2)
    assert (await other.get(f"/console/broadcasts/{record.id}")).status == 404
    assert "Chỉ trạm 1" not in (await other.get("/console/broadcasts")).text
    assert "Chỉ trạm 1" not in (await other.get("/console/calendar")).text
    assert "kính lão" not in (await other.get("/console/questions")).text
    own = await console.sign_in(STAFF[1])
    assert "Chỉ trạm 1" in (await own.get(f"/console/broadcasts/{record.id}")).text
    assert "kính lão" in (await own.get("/console/questions")).text


async def a_broadcast(console) -> int:  # noqa: ANN001
    """A station-1 broadcast, for the table-driven test of every route (its `broadcast_id`)."""
    async with console.bot.services.db.sessions() as session, session.begin():
        record = BroadcastRecord(kind="staff", created_by="Điều dưỡng Mai", text="Thử",
                                 audience={"kind": "all", "stations": [1]}, status="cancelled",
                                 scheduled_at=console.bot.services.clock())
        session.add(record)
    return int(record.id)
