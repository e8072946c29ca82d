"""Test helpers for the web console (issue 18): a running stack with the console on, fake Telegram
for the staff's chats and the real outbox dispatcher, and a `ConsoleClient` that signs in with the
code the bot sends to the member's Telegram chat, over real HTTP like a browser.

    from tests.console_helpers import ADMIN, NURSE, console_fixture, fake_fixture  # noqa: F401

    async def test_something(console):
        client = await console.sign_in(NURSE)
        page = await client.get("/console/tickets")
        assert page.status == 200
        await client.post("/console/tickets/1/answer", {"text": "..."})  # adds the CSRF token
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest

from bot.config import Area, Settings, StaffMember, StationEntry
from tests.fakes.telegram_api import FakeTelegram
from tests.web_visitor import STAFF_GROUP, WebStack, WebVisitor, web_stack

STATION2_GROUP = -4602
ADMIN = StaffMember(name="Y sĩ Hoa", role="admin", telegram_id="7699", handle="hoa")
NURSE = StaffMember(name="Điều dưỡng Mai", role="staff", telegram_id="7702", handle="mai")
APPROVER = StaffMember(name="Trưởng trạm Bình", role="approver", telegram_id="7703",
                       handle="binh")
# Station 2's nurse: sees only station 2's tickets.
NURSE2 = StaffMember(name="Y tá Lan", role="staff", telegram_id="7704", handle="lan",
                     stations=[2])
STAFF = (ADMIN, NURSE, APPROVER, NURSE2)
# Province staff (not in STAFF): every station, or one they pick.
PROVINCE = StaffMember(name="Chuyên viên Hà", role="staff", telegram_id="7710", handle="ha",
                       province=True)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CODE = re.compile(r"\b(\d{6})\b")


def console_settings(settings: Settings, *, staff: tuple[StaffMember, ...] = STAFF,
                     **console: Any) -> Settings:
    """The console on (plain HTTP on 127.0.0.1), four staff members, a second station (any
    further station of `settings` is kept)."""
    station2 = StationEntry(id=2, code="XUANLA", name="Trạm Y tế phường Xuân La",
                            staff_chat=f"telegram:{STATION2_GROUP}",
                            areas=[Area("XL1", "Tổ dân phố Xuân La 1")])
    return replace(
        settings,
        staff=list(staff),
        stations=[station2, *(entry for entry in settings.stations if entry.id != 2)],
        feedback=replace(settings.feedback, staff_chat=f"telegram:{STAFF_GROUP}"),
        console=replace(settings.console, **{"enabled": True, "insecure_cookies": True,
                                             **console}),
    )


@dataclass
class Page:
    status: int
    text: str
    url: str
    headers: Any

    @property
    def csrf(self) -> str:
        found = CSRF.search(self.text)
        assert found, f"no CSRF token on {self.url}"
        return found.group(1)


class ConsoleClient:
    """One browser: a cookie jar; `post` sends the CSRF token of the last page it read."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.last: Page | None = None

    async def close(self) -> None:
        await self.http.close()

    async def _read(self, res: aiohttp.ClientResponse) -> Page:
        page = Page(res.status, await res.text(errors="replace"), str(res.url), res.headers)
        if "text/html" in res.headers.get("Content-Type", "") and CSRF.search(page.text):
            self.last = page
        return page

    async def get(self, path: str, *, follow: bool = True, **kw: Any) -> Page:
        async with self.http.get(self.url + path, allow_redirects=follow, **kw) as res:
            return await self._read(res)

    async def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True,
                   follow: bool = True) -> Page:
        body = dict(data or {})
        if csrf and "csrf" not in body:
            if self.last is None:
                await self.get("/console/")
            assert self.last is not None
            body["csrf"] = self.last.csrf
        async with self.http.post(self.url + path, data=body, allow_redirects=follow) as res:
            return await self._read(res)

    def cookie(self, name: str) -> str | None:
        found = [c for c in self.http.cookie_jar if c.key == name]
        return found[0].value if found else None


@dataclass
class ConsoleStack:
    stack: WebStack

    @property
    def url(self) -> str:
        return self.stack.url

    @property
    def fake(self) -> FakeTelegram:
        return self.stack.fake

    @property
    def bot(self) -> Any:
        return self.stack.bot

    async def client(self) -> ConsoleClient:
        client = ConsoleClient(self.url)
        self._clients.append(client)
        return client

    def __post_init__(self) -> None:
        self._clients: list[ConsoleClient] = []
        self._visitors: list[WebVisitor] = []

    async def request_code(self, client: ConsoleClient, handle: str) -> Page:
        await client.get("/console/signin")
        return await client.post("/console/signin", {"handle": handle})

    async def code_for(self, member: StaffMember, before: int) -> str:
        """The code the bot sent to the member's own Telegram chat after `before` messages."""
        sent = await self.fake.wait_for_sent(int(member.telegram_id), before + 1)
        found = CODE.search(sent[-1].text or "")
        assert found, sent[-1].text
        return found.group(1)

    async def sign_in(self, member: StaffMember) -> ConsoleClient:
        """A new browser signed in as `member` with the code received on fake Telegram."""
        client = await self.client()
        before = len(self.fake.sent_to(int(member.telegram_id)))
        page = await self.request_code(client, member.handle or member.name)
        assert page.status == 200 and "/console/signin/code" in page.url, page.text
        code = await self.code_for(member, before)
        home = await client.post("/console/signin/code", {"code": code})
        assert home.status == 200 and home.url.endswith("/console/"), home.text
        return client

    async def file_on_telegram(self, resident: int, text: str) -> str:
        """A resident files feedback (anonymously) in their private Telegram chat; its code."""
        fake = self.fake

        async def say(words: str = "", **kw: Any) -> Any:
            before = len(fake.sent_to(resident))
            await fake.push_message(resident, resident, words, **kw)
            return (await fake.wait_for_sent(resident, before + 1))[-1]

        async def tap(data: str, message: Any) -> Any:
            before = len(fake.sent_to(resident))
            await fake.push_callback(resident, resident, data, message.message_id)
            return (await fake.wait_for_sent(resident, before + 1))[-1]

        def button(message: Any, label: str) -> str:
            return next(b["callback_data"] for row in message.reply_markup["inline_keyboard"]
                        for b in row if b["text"] == label)

        menu = await say("/gopy")
        prompt = await tap(button(menu, "Vệ sinh môi trường / ổ bọ gậy"), menu)
        got = await say(text)
        assert prompt and got
        contact = await tap("fb:more", got)
        review = await tap(button(contact, "Gửi ẩn danh"), contact)
        done = await tap("fb:send", review)
        return next(w for w in done.text.split() if w.startswith("PA-")).rstrip(".,:")

    async def web_visitor(self) -> WebVisitor:
        visitor = WebVisitor(self.url)
        self._visitors.append(visitor)
        return visitor

    async def ticket_id(self, code: str) -> int:
        from storage.tickets import ticket_by_code

        async with self.bot.services.db.sessions() as session:
            ticket = await ticket_by_code(session, code)
            assert ticket is not None
            return ticket.id

    async def sign_in_browser(self, page: Any, member: StaffMember, at_code: Any = None) -> None:
        """Sign `member` in on a Playwright page, as a person would (the code from Telegram);
        `at_code(page)` is awaited on the code page (e.g. for a screenshot)."""
        from playwright.async_api import expect

        await page.goto(self.url + "/console/signin")
        before = len(self.fake.sent_to(int(member.telegram_id)))
        await page.fill("#handle", member.handle or member.name)
        await page.get_by_role("button", name="Gửi mã cho tôi").click()
        await expect(page).to_have_url(self.url + "/console/signin/code")
        if at_code is not None:
            await at_code(page)
        await page.fill("#code", await self.code_for(member, before))
        await page.get_by_role("button", name="Đăng nhập").click()
        await expect(page.locator("h1")).to_contain_text(f"Xin chào, {member.name}")

    async def close(self) -> None:
        for visitor in self._visitors:
            await visitor.close()
        for client in self._clients:
            await client.close()


@asynccontextmanager
async def console_stack(settings: Settings, fake: FakeTelegram, clock: object,
                        staff: tuple[StaffMember, ...] = STAFF,
                        **console: Any) -> AsyncIterator[ConsoleStack]:
    """The web server with the console and Telegram mounted, and the outbox dispatcher running."""
    async with web_stack(console_settings(settings, staff=staff, **console), fake,
                         clock) as stack:
        stack.bot.services.extras["dispatcher"] = stack.dispatcher  # codes go out at once
        stop = asyncio.Event()
        dispatching = asyncio.create_task(stack.dispatcher.run_forever(stop))
        running = ConsoleStack(stack)
        try:
            yield running
        finally:
            await running.close()
            stop.set()
            await dispatching


@pytest.fixture(name="fake")
async def fake_fixture() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood_limits=None) as server:
        yield server


@pytest.fixture(name="console")
async def console_fixture(settings, fake, clock) -> AsyncIterator[ConsoleStack]:  # noqa: ANN001
    """A running console (on SQLite and, when configured, PostgreSQL)."""
    async with console_stack(settings, fake, clock) as running:
        yield running
