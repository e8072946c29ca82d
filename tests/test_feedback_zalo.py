"""Feedback across channels, end to end: a resident on Zalo Bot (numbered menus, no buttons) and
staff in a Telegram group, both real adapters over HTTP against their fakes, one outbox Dispatcher.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.channels.telegram import start_telegram
from bot.channels.zalo_bot import start_zalo_bot
from bot.config import Settings, StaffMember
from bot.engine import HealthBot
from scheduler.dispatcher import Dispatcher
from storage.models import Ticket
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_bot_api import FakeZaloBot, ZaloSent

RESIDENT = "7a1b2c3d4e5f60718293"
STAFF_GROUP = -4501
STAFF = 7599


@pytest.fixture
async def both(
    settings: Settings, clock: object
) -> AsyncIterator[tuple[HealthBot, FakeTelegram, FakeZaloBot]]:
    async with FakeTelegram(flood_limits=None) as tg, FakeZaloBot() as zl:
        settings = replace(
            settings,
            telegram=replace(settings.telegram, token=tg.token, api_base_url=tg.bot_api_url),
            zalo_bot=replace(settings.zalo_bot, token=zl.token, api_base_url=zl.bot_api_url),
            staff=[StaffMember(name="Y sĩ Mai", role="admin", telegram_id=str(STAFF))],
            feedback=replace(settings.feedback, staff_chat=f"telegram:{STAFF_GROUP}"),
        )
        services = build_services(settings, clock=clock)  # type: ignore[arg-type]
        bot = build_bot(services)
        app = web.Application()
        stops = [await start_telegram(bot, app), await start_zalo_bot(bot, app)]
        try:
            await tg.wait_for_poll()
            await zl.wait_for_poll()
            yield bot, tg, zl
        finally:
            for stop in stops:
                await stop()
            await services.db.close()


async def say(zl: FakeZaloBot, text: str) -> str:
    before = len(zl.sent_to(RESIDENT))
    await zl.push_text(RESIDENT, text)
    sent: list[ZaloSent] = await zl.wait_for_sent(RESIDENT, before + 1)
    return "\n".join(s.text or s.caption or "" for s in sent[before:])


def option(text: str, label: str) -> str:
    numbers = {lab: n for n, lab in re.findall(r"^(\d+)\. (.+)$", text, re.M)}
    return numbers[label]


async def test_zalo_resident_files_staff_answer_on_telegram_resident_rates_by_number(
    both: tuple[HealthBot, FakeTelegram, FakeZaloBot],
) -> None:
    bot, tg, zl = both
    menu = await say(zl, "gop y")
    assert "Gõ số để chọn:" in menu
    prompt = await say(zl, option(menu, "Vệ sinh môi trường / ổ bọ gậy"))
    assert "mô tả" in prompt
    await say(zl, "Cống thoát nước ở tổ 3 bị tắc, nhiều muỗi")
    before = len(zl.sent_to(RESIDENT))
    await zl.push_photo(RESIDENT, "https://example.org/cong.jpg")
    got = (await zl.wait_for_sent(RESIDENT, before + 1))[-1].text or ""
    contact = await say(zl, option(got, "Tiếp tục"))
    review = await say(zl, option(contact, "Gửi ẩn danh"))
    done = await say(zl, option(review, "Gửi"))
    assert "PA-2026-000001" in done

    dispatcher = Dispatcher(bot.services.db, bot.services.extras["senders"])
    await dispatcher.drain()
    (card,) = tg.sent_to(STAFF_GROUP)
    assert card.photo and "tắc" in (card.caption or "")  # a Zalo photo URL shows on Telegram

    before = len(tg.sent_to(STAFF_GROUP))
    await tg.push_message(
        STAFF_GROUP, STAFF, "Đã thông cống, cảm ơn bác.", reply_to_message_id=card.message_id,
        photo=True,
    )  # fmt: skip
    await tg.wait_for_sent(STAFF_GROUP, before + 1)
    await tg.push_message(STAFF_GROUP, STAFF, "/dong PA-2026-000001")
    await tg.wait_for_sent(STAFF_GROUP, before + 2)
    await dispatcher.drain()
    answer, closing = zl.sent_to(RESIDENT)[-2:]
    assert answer.method == "sendMessage"  # a Telegram file id cannot travel to Zalo
    assert "thông cống" in (answer.text or "") and "Cán bộ Trạm Y tế" in (answer.text or "")
    assert "ảnh" in (answer.text or "")  # ...so the resident is told a photo exists
    assert "từ 1" in (closing.text or "")
    thanks = await say(zl, "5")
    assert "5/5" in thanks
    async with bot.services.db.sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert (ticket.channel, ticket.status, ticket.rating) == ("zalo_bot", "closed", 5)
