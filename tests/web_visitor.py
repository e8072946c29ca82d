"""Test helpers for the web chat: a running stack (web page + Telegram for staff + the real outbox
dispatcher) and a `WebVisitor` that talks to the page's API over real HTTP like the browser does.

The fixtures `fake`, `stack` and `visitor` are shared by the web tests: a module imports them
(`from tests.web_visitor import fake, stack, visitor  # noqa: F401`) and may override `stack`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import build_bot, build_services, build_web_app
from bot.channels.telegram import start_telegram
from bot.channels.web.server import WebChat
from bot.config import Settings, StaffMember
from bot.engine import HealthBot
from scheduler.dispatcher import Dispatcher
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_e2e import free_port, telegram_settings

STAFF_GROUP = -4601
STAFF = 7699


@dataclass
class WebStack:
    bot: HealthBot
    fake: FakeTelegram
    url: str
    dispatcher: Dispatcher

    @property
    def web(self) -> WebChat:
        return self.bot.services.extras["web_chat"]

    async def staff_says(self, text: str, **kw: Any) -> list[Any]:
        before = len(self.fake.sent_to(STAFF_GROUP))
        await self.fake.push_message(STAFF_GROUP, STAFF, text, **kw)
        return (await self.fake.wait_for_sent(STAFF_GROUP, before + 1))[before:]

    async def staff_taps(self, data: str, message_id: int) -> list[Any]:
        before = len(self.fake.sent_to(STAFF_GROUP))
        await self.fake.push_callback(STAFF_GROUP, STAFF, data, message_id)
        return (await self.fake.wait_for_sent(STAFF_GROUP, before + 1))[before:]

    async def staff_closes(self, close_data: str, message_id: int) -> None:
        """Tap "Đóng" on a ticket card, then confirm (nothing closes on one tap)."""
        (confirm,) = await self.staff_taps(close_data, message_id)
        yes = next(
            b["callback_data"]
            for row in confirm.reply_markup["inline_keyboard"]
            for b in row
            if b["text"] == "Đồng ý đóng"
        )
        await self.staff_taps(yes, confirm.message_id)


def staffed(settings: Settings, **web: Any) -> Settings:
    return replace(
        settings,
        staff=[StaffMember(name="Y sĩ Hoa", role="admin", telegram_id=str(STAFF))],
        feedback=replace(settings.feedback, staff_chat=f"telegram:{STAFF_GROUP}"),
        web=replace(settings.web, **web),
    )


@asynccontextmanager
async def web_stack(
    settings: Settings, fake: FakeTelegram, clock: object
) -> AsyncIterator[WebStack]:
    """The web app (with Telegram mounted on it) on a real port, and a dispatcher to drain."""
    services = build_services(telegram_settings(settings, fake), clock=clock)  # type: ignore[arg-type]
    bot = build_bot(services)
    app = build_web_app(bot)
    stop = await start_telegram(bot, app)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    dispatcher = Dispatcher(services.db, services.extras["senders"], clock)  # type: ignore[arg-type]
    try:
        await fake.wait_for_poll()
        yield WebStack(bot, fake, f"http://127.0.0.1:{port}", dispatcher)
    finally:
        await stop()
        await runner.cleanup()
        await services.db.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """FakeTelegram for the staff, without flood limits."""
    async with FakeTelegram(flood_limits=None) as server:
        yield server


@pytest.fixture
async def stack(settings: Settings, fake: FakeTelegram, clock: object) -> AsyncIterator[WebStack]:
    """The web stack with one admin on Telegram and the staff group for feedback."""
    async with web_stack(staffed(settings), fake, clock) as running:
        yield running


@pytest.fixture
async def visitor(stack: WebStack) -> AsyncIterator[WebVisitor]:
    """One resident's browser on the running stack."""
    v = WebVisitor(stack.url)
    yield v
    await v.close()


class WebVisitor:
    """One browser: a cookie jar and the page's calls."""

    def __init__(self, url: str, jar: aiohttp.CookieJar | None = None, **headers: str) -> None:
        self.url = url
        self.http = aiohttp.ClientSession(
            cookie_jar=jar or aiohttp.CookieJar(unsafe=True), headers=headers
        )

    async def close(self) -> None:
        await self.http.close()

    async def say(self, text: str = "", *, button: str | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"button": button} if button else {"text": text}
        async with self.http.post(f"{self.url}/api/message", json=body) as res:
            data = await res.json()
            assert res.status == 200, data
            return data["messages"]

    async def tap(self, label: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for m in reversed(messages):
            for row in m.get("buttons") or []:
                for b in row:
                    if b["label"] == label:
                        return await self.say(button=b["data"])
        raise AssertionError(f"no button {label!r} in {messages!r}")

    async def history(self) -> dict[str, Any]:
        async with self.http.get(f"{self.url}/api/history") as res:
            return await res.json()

    async def file_feedback(self, text: str) -> str:
        """/gopy on the page through to the ticket code, anonymously."""
        menu = await self.say("/gopy")
        prompt = await self.tap("Thời gian chờ", menu)
        received = await self.say(text)
        contact = await self.say(button="fb:more")
        review = await self.tap("Gửi ẩn danh", contact)
        done = await self.say(button="fb:send")
        assert review and done
        # The page cannot attach photos nor quote a message: the texts do not offer either.
        assert "ảnh" not in prompt[0]["text"] + received[0]["text"]
        assert "(reply)" not in done[0]["text"]
        assert "/bosung" in done[0]["text"]
        code = next(w for w in done[0]["text"].split() if w.startswith("PA-"))
        return code.rstrip(".,:")

    @asynccontextmanager
    async def stream(
        self, after: int | None = None, last_event_id: int | None = None
    ) -> AsyncIterator[EventStream]:
        params = {} if after is None else {"after": str(after)}
        headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        async with self.http.get(f"{self.url}/api/events", params=params, headers=headers) as res:
            assert res.status == 200, await res.text()
            assert res.headers["Content-Type"].startswith("text/event-stream")
            yield EventStream(res)


class EventStream:
    """Reads Server-Sent Events the way EventSource does (id, event, data; comments skipped)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, timeout: float = 2.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            fields: dict[str, str] = {}
            while True:
                line = (await self.response.content.readline()).decode("utf-8")
                if not line:
                    raise EOFError("the stream ended")
                line = line.rstrip("\n")
                if line == "":
                    if "data" in fields:
                        event = json.loads(fields["data"])
                        event["event_id"] = int(fields["id"])
                        return event
                    fields = {}
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")

    async def nothing_within(self, seconds: float) -> bool:
        try:
            await self.next(seconds)
        except TimeoutError:
            return True
        return False
