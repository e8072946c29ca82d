"""Zalo Bot Platform end to end: the adapter over real HTTP against FakeZaloBot (polling and webhook)."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.channels.zalo_bot import start_zalo_bot
from bot.channels.zalo_bot_send import ZaloBotSender
from bot.config import Settings
from bot.engine import HealthBot
from bot.model import Button, Outbound
from scheduler.sender import SendError
from storage.models import Chat
from tests.fakes.zalo_bot_api import FakeZaloBot, ZaloSent

SECRET = "zalo-bot-secret-42"
RESIDENT = "6ede9afa66b88fe6d6a9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def zalo_bot_settings(settings: Settings, fake: FakeZaloBot, *, mode: str, url: str) -> Settings:
    cfg = replace(
        settings.zalo_bot,
        token=fake.token,
        api_base_url=fake.bot_api_url,
        mode=mode,
        webhook_url=url,
        webhook_secret=SECRET if mode == "webhook" else "",
    )
    return replace(settings, zalo_bot=cfg)


@dataclass
class Running:
    bot: HealthBot
    fake: FakeZaloBot
    url: str


@asynccontextmanager
async def running_bot(
    settings: Settings, fake: FakeZaloBot, clock: object, *, mode: str
) -> AsyncIterator[Running]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/zalo/bot/webhook" if mode == "webhook" else ""
    services = build_services(zalo_bot_settings(settings, fake, mode=mode, url=url), clock=clock)  # type: ignore[arg-type]
    bot = build_bot(services)
    app = web.Application()
    stop = await start_zalo_bot(bot, app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        if mode == "polling":
            await fake.wait_for_poll()
        yield Running(bot, fake, url)
    finally:
        await stop()
        await runner.cleanup()
        await services.db.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot() as server:
        yield server


@pytest.fixture(params=["polling", "webhook"])
async def zb(
    request: pytest.FixtureRequest, settings: Settings, fake: FakeZaloBot, clock: object
) -> AsyncIterator[Running]:
    async with running_bot(settings, fake, clock, mode=request.param) as running:
        yield running


async def say(fake: FakeZaloBot, text: str, expect: int = 1, user: str = RESIDENT) -> list[ZaloSent]:
    before = len(fake.sent_to(user))
    await fake.push_text(user, text)
    sent = await fake.wait_for_sent(user, before + expect)
    return sent[before:]


def numbered(text: str) -> dict[int, str]:
    return {int(n): label for n, label in re.findall(r"^(\d+)\. (.+)$", text, re.M)}


async def test_question_without_diacritics_gets_the_sourced_answer(
    zb: Running, fake: FakeZaloBot
) -> None:
    (answer,) = await say(fake, "sot xuat huyet co lay khong")
    assert answer.method == "sendMessage"
    assert "muỗi vằn" in (answer.text or "")
    assert "Nguồn:" in (answer.text or "")
    assert len(answer.text or "") <= 2000


async def test_typed_menu_numbers_pick_the_items(zb: Running, fake: FakeZaloBot) -> None:
    (menu,) = await say(fake, "/start")
    assert "Gõ số để chọn:" in (menu.text or "")
    assert numbered(menu.text or "")[1] == "Thông tin sức khỏe"
    (topics,) = await say(fake, "1")
    options = numbered(topics.text or "")
    assert len(options) >= 2
    (item,) = await say(fake, "2")
    # The second topic's own page: its title heads the reply, and it offers its entries.
    assert options[2] in (item.text or "")
    assert numbered(item.text or "")


async def test_image_from_a_resident_is_answered(zb: Running, fake: FakeZaloBot) -> None:
    before = len(fake.sent_to(RESIDENT))
    await fake.push_photo(RESIDENT, "https://example.org/rash.jpg")
    sent = await fake.wait_for_sent(RESIDENT, before + 1)
    assert sent[before].text


async def test_long_outbox_text_is_split_under_2000(
    settings: Settings, fake: FakeZaloBot
) -> None:
    sender = ZaloBotSender.from_settings(
        zalo_bot_settings(settings, fake, mode="polling", url="")
    )
    try:
        paragraph = ("Muỗi vằn đốt vào ban ngày. " * 40).strip()
        text = "\n\n".join([paragraph] * 5)  # about 5 400 characters
        result = await sender.send(
            RESIDENT, Outbound(text, buttons=((Button("Menu", "cmd:menu"),),))
        )
        sent = fake.sent_to(RESIDENT)
        assert len(sent) >= 3 and all(len(s.text or "") <= 2000 for s in sent)
        assert "\n\n".join(s.text or "" for s in sent) == text  # nothing lost at the cuts
        assert result.message_id == sent[-1].message_id
        fake.fail_next(RESIDENT, 403, "Forbidden: user blocked the bot")
        with pytest.raises(SendError) as stopped:
            await sender.send(RESIDENT, Outbound("Xin chào"))
        assert stopped.value.kind == "stop"
        fake.fail_next(RESIDENT, 500, "Internal error")
        with pytest.raises(SendError) as retried:
            await sender.send(RESIDENT, Outbound("Xin chào"))
        assert retried.value.kind == "retry"
    finally:
        await sender.close()


# --- webhook specifics --------------------------------------------------------------------------


@pytest.fixture
async def hook(settings: Settings, fake: FakeZaloBot, clock: object) -> AsyncIterator[Running]:
    async with running_bot(settings, fake, clock, mode="webhook") as running:
        yield running


async def test_webhook_is_registered_with_its_secret(hook: Running, fake: FakeZaloBot) -> None:
    assert fake.webhook == {"url": hook.url, "secret_token": SECRET}


async def test_wrong_secret_is_refused_and_nothing_is_answered(
    hook: Running, fake: FakeZaloBot
) -> None:
    update = fake._message(RESIDENT, "Cư dân", "message.text.received", text="/start")
    await fake.deliver(update, secret="not-the-secret")
    await fake.deliver(update, secret="")
    assert [d.status for d in fake.webhook_deliveries] == [403, 403]
    await say(fake, "xin chao")  # a correct delivery afterwards is answered: only one reply
    assert len(fake.sent_to(RESIDENT)) == 1
    async with hook.bot.services.db.sessions() as session:
        chats = (await session.execute(select(Chat))).scalars().all()
    assert len(chats) == 1


async def test_redelivered_message_is_answered_once(hook: Running, fake: FakeZaloBot) -> None:
    await say(fake, "/start")
    await fake.redeliver()
    await fake.redeliver()
    assert [d.status for d in fake.webhook_deliveries] == [200, 200, 200]
    await say(fake, "/menu")  # the next real message is answered, and the duplicates were not
    assert len(fake.sent_to(RESIDENT)) == 2


async def test_wrapped_and_flat_bodies_are_both_accepted(hook: Running, fake: FakeZaloBot) -> None:
    for mode in ("wrapped", "flat"):
        before = len(fake.sent_to(RESIDENT))
        update = fake._message(RESIDENT, "Cư dân", "message.text.received", text="/menu")
        await fake.deliver(update, body_mode=mode)  # type: ignore[arg-type]
        await fake.wait_for_sent(RESIDENT, before + 1)


async def test_malformed_bodies_get_400_and_no_reply(hook: Running, fake: FakeZaloBot) -> None:
    headers = {"X-Bot-Api-Secret-Token": SECRET}
    for body in (b"not json", b"[]", b'{"ok":true,"result":{}}', b'{"message":{"text":"hi"}}'):
        status, _ = await fake.post_json(hook.url, body, headers)
        assert status == 400
    assert fake.sent == []


async def test_polling_skips_a_malformed_update_and_keeps_going(
    settings: Settings, fake: FakeZaloBot, clock: object
) -> None:
    async with running_bot(settings, fake, clock, mode="polling"):
        await fake.deliver({"event_name": "message.text.received"})  # no message object
        await fake.deliver({"event_name": "message.text.received", "message": {"text": "x"}})
        (reply,) = await say(fake, "/menu")
        assert reply.text
        assert len(fake.calls_to("deleteWebhook")) == 1  # polling excludes a webhook


async def test_a_sticker_gets_the_menu(zb: Running, fake: FakeZaloBot) -> None:
    await fake.push_sticker(RESIDENT)
    sorry, menu = await fake.wait_for_sent(RESIDENT, 2)
    assert "chưa hiểu" in (sorry.text or "")
    assert "Gõ số để chọn:" in (menu.text or "")
