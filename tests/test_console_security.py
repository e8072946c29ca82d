"""Every console route against every kind of visitor (issue 18), table-driven from the route
registry itself: without a session, with a forged or altered cookie, with each role's session,
with another station's staff, and without the CSRF token. Zero successes where the role table
(bot/permissions.py) says no, and nothing changes in the database."""

from __future__ import annotations

import itertools
import re

from sqlalchemy import func, select

from bot.permissions import allows
from storage.models import Person, TicketEvent
from tests.console_helpers import (  # noqa: F401 - fixtures
    ADMIN,
    APPROVER,
    NURSE,
    NURSE2,
    ConsoleClient,
    console_fixture,
    fake_fixture,
)
from tests.test_console_pages_security import a_broadcast

RESIDENT = 5552
PARAM = re.compile(r"\{(\w+)(?::([^{}]*(?:\{[^{}]*\}[^{}]*)*))?\}")


def expand(path: str, ids: dict[str, int]) -> list[str]:
    """Every concrete URL of a route: ids filled in, each alternative of `(a|b)` spelled out."""
    choices: list[list[str]] = []
    for name, pattern in PARAM.findall(path):
        if name in ids:
            choices.append([str(ids[name])])
        else:
            choices.append(pattern.strip("()").split("|"))
    urls = []
    for combo in itertools.product(*choices):
        values = iter(combo)
        urls.append("/console/" + PARAM.sub(lambda _m, v=values: next(v), path))
    return urls


async def state(console) -> tuple[int, int]:  # noqa: ANN001
    async with console.bot.services.db.sessions() as session:
        events = (await session.execute(select(func.count()).select_from(TicketEvent))).scalar()
        people = (await session.execute(select(func.count()).select_from(Person))).scalar()
    return int(events or 0), int(people or 0)


async def test_every_route_refuses_whom_the_role_table_refuses(console) -> None:  # noqa: ANN001
    code = await console.file_on_telegram(RESIDENT, "Rác tồn đọng ở đầu ngõ 5")
    ticket_id = await console.ticket_id(code)
    async with console.bot.services.db.sessions() as session:
        person_id = (await session.execute(select(Person.id))).scalars().first()
    ids = {"ticket_id": ticket_id, "person_id": person_id,
           "broadcast_id": await a_broadcast(console)}  # the broadcast page
    pages = console.bot.services.extras["console"].pages
    table = [(page, url) for page in pages for url in expand(page.path, ids)]
    assert len(table) >= 10 and {p.method for p, _u in table} == {"GET", "POST"}

    sessions = {m.role: await console.sign_in(m) for m in (ADMIN, NURSE, APPROVER)}
    other_station = await console.sign_in(NURSE2)
    anonymous = await console.client()
    valid = sessions["admin"].cookie("hb_console")
    token, signature = valid.split(".")
    tampered = []
    for forged in (token + "." + signature[::-1], token[::-1] + "." + signature, token,
                   "A" * 43 + "." + "0" * 64):
        browser = ConsoleClient(console.url)
        browser.http.cookie_jar.update_cookies({"hb_console": forged})
        tampered.append(browser)
    before = await state(console)
    successes: list[str] = []
    checked = 0

    async def request(client: ConsoleClient, page, url: str, csrf: bool = True):  # noqa: ANN001, ANN202
        if page.method == "GET":
            return await client.get(url, follow=False)
        form = {"text": "thử", "confirm": "yes"}
        if not csrf:
            form["csrf"] = "forged"
        return await client.post(url, form, follow=False)

    for page, url in table:
        for client in (anonymous, *tampered):
            result = await request(client, page, url)
            checked += 1
            if result.status < 300:
                successes.append(f"{page.method} {url} without a valid session")
            if page.method == "GET":
                assert result.status == 303 and result.headers["Location"].endswith("/signin")
            else:
                assert result.status == 403
        for role, client in sessions.items():
            if allows(role, page.action):
                if page.method == "GET":
                    assert (await request(client, page, url)).status == 200, (role, url)
                else:  # allowed, but not without the form's token
                    result = await request(client, page, url, csrf=False)
                    checked += 1
                    assert result.status == 403, (role, url)
                continue
            result = await request(client, page, url)
            checked += 1
            if result.status < 300:
                successes.append(f"{page.method} {url} as {role}")
            assert result.status == 403, (role, url, result.status)
        if "ticket_id" in page.path or "person_id" in page.path:  # station 1's records
            result = await request(other_station, page, url)
            checked += 1
            if result.status < 300:
                successes.append(f"{page.method} {url} by another station's staff")
            assert result.status in (403, 404), (url, result.status)
    assert successes == []
    assert checked > 60
    assert await state(console) == before, "a refused request changed something"
    # Each refusal of a signed-in member is in the audit log.
    from storage.models import ConsoleAudit

    async with console.bot.services.db.sessions() as session:
        refused = (await session.execute(select(func.count()).select_from(ConsoleAudit).where(
            ConsoleAudit.outcome == "refused"))).scalar()
    assert refused and refused >= 10
    for browser in tampered:
        await browser.close()
