"""A station's own web chat link (issue 21): `/?start=XUANLA_TDPA` in a real headless Chromium
greets the visitor as station B's resident; reloading the page does not show the hidden call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import Person
from tests.fakes.telegram_api import FakeTelegram
from tests.test_browser import CHROMIUM_ARGS, chromium_path  # noqa: F401 - the fixture
from tests.test_stations import B_PHONE, two_stations
from tests.web_visitor import web_stack


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood_limits=None) as server:
        yield server


async def test_a_station_link_opens_the_web_chat_of_that_station(
        settings, fake, clock, chromium_path: Path) -> None:  # noqa: ANN001, F811
    if not settings.database.url.startswith("sqlite"):
        pytest.skip("the browser tests run on the embedded default, SQLite")
    from playwright.async_api import async_playwright, expect

    async with web_stack(two_stations(settings), fake, clock) as stack, \
            async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(chromium_path),
                                            args=CHROMIUM_ARGS)
        try:
            page = await chromium.new_page()
            await page.goto(stack.url + "/?start=XUANLA_TDPA")
            greeting = page.locator(".msg.bot").first
            await expect(greeting).to_contain_text("Trạm Y tế phường Xuân La")
            await expect(greeting).to_contain_text("Tổ dân phố A")
            await page.fill("#text", "lien he")
            await page.press("#text", "Enter")
            await expect(page.locator(".msg.bot").last).to_contain_text(B_PHONE)
            await page.reload()
            await expect(page.locator(".msg.bot").first).to_contain_text("Xuân La")
            # the hidden call "/start XUANLA_TDPA" is not shown as the visitor's message
            await expect(page.locator(".msg.me")).to_have_count(1)
            await expect(page.locator(".msg.me")).to_have_text("lien he")
        finally:
            await chromium.close()
    async with stack.bot.services.db.sessions() as session:
        (person,) = (await session.execute(select(Person))).scalars().all()
    assert person.station_id == 2
