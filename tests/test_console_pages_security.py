"""Every route of the console's calendar, broadcasts, unanswered questions and reports pages
(issue 18, points 3–5), as the registry lists them: without a session, with a tampered session
cookie and with each staff role: zero successes where the role table says no."""

from __future__ import annotations

import re

import pytest
from yarl import URL

from bot.console.registry import PAGES, Page
from bot.console.security import SESSION_COOKIE
from bot.permissions import allows
from tests.console_helpers import STAFF, ConsoleClient, console_fixture, fake_fixture  # noqa: F401

MINE = {"calendar", "compose", "questions", "reports"}  # bot/console/pages/<module>.py


def my_pages() -> list[Page]:
    import bot.console.app  # noqa: F401 - imports every page module

    pages = [p for p in PAGES if p.handler.__module__.rsplit(".", 1)[-1] in MINE]
    assert len(pages) >= 10, [p.path for p in pages]
    return pages


def url_of(page: Page) -> str:
    return "/console/" + re.sub(r"\{[^}]+\}", "1", page.path)


async def request(client: ConsoleClient, page: Page) -> int:
    if page.method == "GET":
        return (await client.get(url_of(page), follow=False)).status
    return (await client.post(url_of(page), {"ids": "1", "text": "x"}, follow=False)).status


@pytest.fixture
def sqlite_first(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the route table is the same on both databases")


async def test_no_session_and_a_tampered_cookie_are_refused(console, sqlite_first) -> None:  # noqa: ANN001
    stranger = await console.client()
    member = await console.sign_in(STAFF[0])
    session = member.cookie(SESSION_COOKIE)
    assert session
    forged = await console.client()
    forged.http.cookie_jar.update_cookies({SESSION_COOKIE: session[:-3] + "abc"}, URL(console.url))
    for page in my_pages():
        for client in (stranger, forged):
            status = await (client.get(url_of(page), follow=False) if page.method == "GET"
                            else client.post(url_of(page), {"csrf": "x"}, csrf=False,
                                             follow=False))
            assert status.status in (303, 401, 403), (page.path, page.method, status.status)
            assert "/console/signin" in status.headers.get("Location", "/console/signin")


async def test_each_role_reaches_only_what_the_table_allows(console, sqlite_first) -> None:  # noqa: ANN001
    for member in STAFF[:3]:  # admin, staff, approver
        client = await console.sign_in(member)
        await client.get("/console/")  # a CSRF token for the POSTs
        for page in my_pages():
            status = await request(client, page)
            if allows(member.role, page.action):
                assert status != 403, (member.role, page.path, page.method)
            else:
                assert status == 403, (member.role, page.path, page.method, status)


async def test_another_stations_broadcast_and_questions_stay_hidden(console, sqlite_first) -> None:  # noqa: ANN001
    from datetime import timedelta

    from bot.model import TELEGRAM
    from storage.models import BroadcastRecord
    from tests.console_helpers import NURSE2
    from tests.transcript import Transcript

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
