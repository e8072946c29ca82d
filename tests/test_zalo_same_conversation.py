"""The same conversation gives the same content on web chat, Telegram, Zalo Bot and Zalo OA.

Each channel is driven through its real adapter over HTTP (web chat API, FakeTelegram, FakeZaloBot,
FakeZaloOA). A resident opens the menu, picks "health topics" (a button where the channel has
buttons, a typed number where it has not), asks a question without diacritics, switches to English
and opens the menu again. What they read, apart from how the options are drawn, must be identical.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_web_app
from bot.config import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.fakes.zalo_oa_api import FakeZaloOA
from tests.test_telegram_e2e import running_bot as running_telegram
from tests.test_zalo_bot import running_bot as running_zalo_bot
from tests.test_zalo_oa import running_bot as running_zalo_oa
from tests.test_zalo_oa import seed_tokens

NUMBERED = re.compile(r"\n*(?:Gõ số để chọn:|Reply with a number:)\n(?:\d+\. .*(?:\n|$))+\Z")
USER = "4411"


@dataclass
class Reply:
    text: str
    options: list[tuple[str, str]]  # (label, how to choose it: button data or a number to type)
    numbered: bool


def content(replies: list[Reply]) -> list[str]:
    """What the resident reads, without the way options are drawn (buttons or a numbered list)."""
    return [NUMBERED.sub("", r.text).strip() for r in replies]


def options_from_text(text: str) -> list[tuple[str, str]]:
    return [(label, number) for number, label in re.findall(r"^(\d+)\. (.+)$", text, re.M)]


class Driver:
    """Say text or pick an option by its label; returns the replies the resident got."""

    say: Callable[[str, int], Any]
    press: Callable[[str, int], Any]  # button data, expected reply count

    def __init__(self) -> None:
        self.last: list[Reply] = []

    async def pick(self, wanted: Callable[[str], bool], expect: int) -> list[Reply]:
        for reply in reversed(self.last):
            for label, choice in reply.options:
                if wanted(label):
                    if reply.numbered:
                        return await self.say(choice, expect)
                    return await self.press(choice, expect)
        raise AssertionError(f"no such option in {[r.options for r in self.last]}")


@asynccontextmanager
async def web_driver(bot: Any) -> AsyncIterator[Driver]:
    client = TestClient(TestServer(build_web_app(bot)))
    await client.start_server()
    driver = Driver()

    async def post(body: dict[str, str], expect: int) -> list[Reply]:
        answer = await (await client.post("/api/message", json=body)).json()
        driver.last = [
            Reply(m["text"], [(b["label"], b["data"]) for row in m["buttons"] for b in row], False)
            for m in answer["messages"]
        ]
        return driver.last

    driver.say = lambda text, expect: post({"text": text}, expect)  # type: ignore[method-assign]
    driver.press = lambda data, expect: post({"button": data}, expect)  # type: ignore[method-assign]
    try:
        yield driver
    finally:
        await client.close()


async def conversation(driver: Driver, steps: list[int] | None = None) -> tuple[list[str], list[int]]:
    """Run the conversation; `steps` are the reply counts to wait for (from the web chat run)."""
    counts = iter(steps or [])
    seen: list[int] = []
    texts: list[str] = []

    async def step(replies_coro: Any) -> None:
        replies = await replies_coro
        seen.append(len(replies))
        texts.extend(content(replies))

    await step(driver.say("/start", next(counts, 0)))
    await step(driver.pick(lambda label: label == "Thông tin sức khỏe", next(counts, 0)))
    await step(driver.say("sot xuat huyet co lay khong", next(counts, 0)))
    await step(driver.say("/ngonngu", next(counts, 0)))
    await step(driver.pick(lambda label: "English" in label and "/" not in label, next(counts, 0)))
    await step(driver.say("/menu", next(counts, 0)))
    return texts, seen


@pytest.mark.parametrize("channel", ["telegram", "zalo_bot", "zalo_oa"])
async def test_same_conversation_same_content_on_every_channel(
    channel: str, settings: Settings, healthbot: Any, clock: Any
) -> None:
    async with web_driver(healthbot) as web:
        expected, counts = await conversation(web)
    assert any("muỗi vằn" in t and "Nguồn:" in t for t in expected)
    assert expected[-1] == "Main menu: please choose."
    async with channel_driver(channel, settings, clock) as driver:
        got, _ = await conversation(driver, counts)
    assert got == expected, (got, expected)


@asynccontextmanager
async def channel_driver(channel: str, settings: Settings, clock: Any) -> AsyncIterator[Driver]:
    driver = Driver()
    if channel == "telegram":
        async with FakeTelegram(flood_limits=None) as fake, running_telegram(settings, fake, clock):
            chat = int(USER)

            async def collect(expect: int, before: int) -> list[Reply]:
                sent = (await fake.wait_for_sent(chat, before + expect))[before:]
                driver.last = [Reply(s.text or s.caption or "",
                                     [(b["text"], b["callback_data"]) for b in s.buttons], False)
                               for s in sent]
                return driver.last

            async def tg_say(text: str, expect: int) -> list[Reply]:
                before = len(fake.sent_to(chat))
                await fake.push_message(chat, chat, text)
                return await collect(expect, before)

            async def tg_press(data: str, expect: int) -> list[Reply]:
                before = len(fake.sent_to(chat))
                await fake.push_callback(chat, chat, data, fake.sent_to(chat)[-1].message_id)
                return await collect(expect, before)

            driver.say, driver.press = tg_say, tg_press  # type: ignore[method-assign]
            yield driver
    elif channel == "zalo_bot":
        async with FakeZaloBot() as zfake, running_zalo_bot(settings, zfake, clock, mode="polling"):

            async def zb_say(text: str, expect: int) -> list[Reply]:
                before = len(zfake.sent_to(USER))
                await zfake.push_text(USER, text)
                sent = (await zfake.wait_for_sent(USER, before + expect))[before:]
                driver.last = [Reply(s.text or "", options_from_text(s.text or ""), True)
                               for s in sent]
                return driver.last

            driver.say = driver.press = zb_say  # type: ignore[method-assign]
            yield driver
    else:
        async with FakeZaloOA(clock=lambda: clock.now.timestamp()) as ofake, running_zalo_oa(
            settings, ofake, clock
        ) as running:
            await seed_tokens(running.db, ofake, clock)

            async def oa_say(text: str, expect: int) -> list[Reply]:
                before = len(ofake.sent_to(USER))
                assert (await ofake.send_text(USER, text)).status == 200
                sent = (await ofake.wait_for_sent(USER, before + expect))[before:]
                driver.last = [
                    Reply(s.text or "", [(b["title"], b["payload"]) for b in s.buttons], False)
                    if s.buttons else Reply(s.text or "", options_from_text(s.text or ""), True)
                    for s in sent
                ]
                return driver.last

            driver.say = driver.press = oa_say  # type: ignore[method-assign]
            yield driver
