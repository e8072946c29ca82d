"""Stations with their own Telegram bot (issue 21): three bots in one installation.

Station 1 (MAU) uses the shared provincial bot; stations 2 (XUANLA) and 3 (ANKHANH) each run their
own bot, every bot on its own fake Telegram server with its own token. An update received by a
station's bot belongs to that station (a new resident there becomes its resident), the reply goes
out through that bot, and later messages to the resident (the outbox: broadcasts, answers) go
through the resident's station's bot, never another's. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import build_bot, build_services, channel_starters
from bot.config import (
    Area,
    ConfigError,
    Settings,
    StaffMember,
    StationEntry,
    StationTelegram,
    load_settings,
)
from bot.engine import HealthBot
from bot.model import Outbound
from scheduler.dispatcher import Dispatcher
from storage import outbox
from storage.models import Identity, Person
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_e2e import free_port

TOKENS = {1: "111111:SHARED-BOT", 2: "222222:XUANLA-BOT", 3: "333333:ANKHANH-BOT"}
SECRETS = {1: "shared-secret", 2: "xuanla-secret", 3: "ankhanh-secret"}
NAMES = {1: "Trạm Y tế phường Mẫu", 2: "Trạm Y tế phường Xuân La",
         3: "Trạm Y tế phường An Khánh"}
RESIDENT = 8100
STAFF = 9100


def station(station_id: int, code: str, fake: FakeTelegram, webhook_url: str = "") -> StationEntry:
    own = StationTelegram(token=fake.token, api_base_url=fake.bot_api_url,
                          webhook_url=webhook_url, webhook_secret=SECRETS[station_id])
    return StationEntry(id=station_id, code=code, name=NAMES[station_id],
                        areas=[Area("TDP1", "Tổ dân phố 1")], telegram=own)


def three_bots(settings: Settings, fakes: dict[int, FakeTelegram], *, mode: str = "polling",
               urls: dict[int, str] | None = None) -> Settings:
    urls = urls or {}
    shared = fakes[1]
    telegram = replace(settings.telegram, token=shared.token, api_base_url=shared.bot_api_url,
                       mode=mode, webhook_url=urls.get(1, ""),
                       webhook_secret=SECRETS[1] if mode == "webhook" else "")
    staff = [StaffMember(f"Cán bộ trạm {sid}", "admin", telegram_id=str(STAFF + sid),
                         stations=[sid]) for sid in TOKENS]
    staff.append(StaffMember("Cán bộ tỉnh", "admin", telegram_id=str(STAFF), province=True))
    return replace(settings, telegram=telegram, station=replace(settings.station, code="MAU"),
                   staff=staff, stations=[station(2, "XUANLA", fakes[2], urls.get(2, "")),
                                          station(3, "ANKHANH", fakes[3], urls.get(3, ""))])


@dataclass
class Installation:
    bot: HealthBot
    fakes: dict[int, FakeTelegram]

    async def station_of(self, user_id: int) -> int:
        async with self.bot.services.db.sessions() as session:
            stmt = select(Person.station_id).join(Identity, Identity.person_id == Person.id).where(
                Identity.channel == "telegram", Identity.external_id == str(user_id))
            return (await session.execute(stmt)).scalars().first()

    def everything_sent(self, chat_id: int) -> dict[int, int]:
        return {sid: len(fake.sent_to(chat_id)) for sid, fake in self.fakes.items()}


@pytest.fixture
async def fakes() -> AsyncIterator[dict[int, FakeTelegram]]:
    async with AsyncExitStack() as stack:
        yield {sid: await stack.enter_async_context(FakeTelegram(token, flood_limits=None))
               for sid, token in TOKENS.items()}


@asynccontextmanager
async def every_channel(settings: Settings, clock: object,
                        polled: Iterable[Any]) -> AsyncIterator[HealthBot]:
    """Every configured bot started the way `healthbot run` starts them (channel_starters);
    `polled`: the fake servers to wait for (each bot holds its long poll open)."""
    services = build_services(settings, clock=clock)  # type: ignore[arg-type]
    bot = build_bot(services)
    app = web.Application()
    stoppers = [await start(bot, app) for start in channel_starters(services.settings)]
    try:
        for fake in polled:
            await fake.wait_for_poll()
        yield bot
    finally:
        for stop in reversed(stoppers):
            await stop()
        await services.db.close()


@pytest.fixture
async def installation(settings: Settings, fakes: dict[int, FakeTelegram],
                       clock: object) -> AsyncIterator[Installation]:
    async with every_channel(three_bots(settings, fakes), clock, fakes.values()) as bot:
        yield Installation(bot, fakes)


async def test_each_station_bot_answers_for_its_own_station(installation: Installation) -> None:
    for sid, fake in installation.fakes.items():
        user = RESIDENT + sid
        await fake.push_message(user, user, "/start")
        (greeting,) = await fake.wait_for_sent(user)
        assert NAMES[sid] in greeting.text
        assert all(NAMES[other] not in greeting.text for other in NAMES if other != sid)
        assert await installation.station_of(user) == sid
        # answered by the bot that received it, and by no other
        assert installation.everything_sent(user) == {s: int(s == sid) for s in TOKENS}


async def test_a_station_bot_sets_staff_menus_for_its_own_staff_only(
    installation: Installation,
) -> None:
    for sid, fake in installation.fakes.items():
        scoped = {json.loads(scope).get("chat_id") for scope, _lang in fake.commands}
        expected = {STAFF + sid, STAFF} if sid != 1 else {STAFF + s for s in TOKENS} | {STAFF}
        assert scoped - {None} == expected  # station bots: their staff and the province's


async def test_the_same_update_id_on_two_bots_is_two_updates(installation: Installation) -> None:
    """Each bot numbers its updates from 1: the inbox must not take one for the other's."""
    for sid in (2, 3):
        fake = installation.fakes[sid]
        await fake.push_message(RESIDENT + sid, RESIDENT + sid, "/start")
        await fake.wait_for_sent(RESIDENT + sid)
    assert installation.fakes[2].sent_to(RESIDENT + 2) and installation.fakes[3].sent_to(RESIDENT + 3)


async def test_later_messages_go_through_the_residents_station_bot(
    installation: Installation,
) -> None:
    for sid, fake in installation.fakes.items():
        await fake.push_message(RESIDENT + sid, RESIDENT + sid, "/start")
        await fake.wait_for_sent(RESIDENT + sid)
    services = installation.bot.services
    async with services.db.sessions() as session, session.begin():
        for sid in TOKENS:
            await outbox.enqueue(session, dedupe_key=f"notice-{sid}", channel="telegram",
                                 chat_id=str(RESIDENT + sid),
                                 payload=Outbound(f"Thông báo {sid}").to_payload(),
                                 not_before=services.clock())
    dispatcher = Dispatcher(services.db, services.extras["senders"], services.clock)
    assert await dispatcher.run_once() == 3
    for sid, fake in installation.fakes.items():
        (_greeting, notice) = await fake.wait_for_sent(RESIDENT + sid, 2)
        assert notice.text == f"Thông báo {sid}"
        assert installation.everything_sent(RESIDENT + sid) == {s: 2 * (s == sid) for s in TOKENS}


async def test_a_station_bot_webhook_is_its_own_path(
    settings: Settings, fakes: dict[int, FakeTelegram], clock: object
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/telegram/webhook"
    urls = {1: base, 2: f"{base}/xuanla", 3: f"{base}/ankhanh"}
    services = build_services(three_bots(settings, fakes, mode="webhook", urls=urls),
                              clock=clock)  # type: ignore[arg-type]
    bot = build_bot(services)
    app = web.Application()
    stoppers = [await start(bot, app) for start in channel_starters(services.settings)]
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        for sid, fake in fakes.items():
            assert fake.webhook is not None and fake.webhook["url"] == urls[sid]
            assert fake.webhook["secret_token"] == SECRETS[sid]
        await fakes[3].push_message(RESIDENT, RESIDENT, "/start")
        (greeting,) = await fakes[3].wait_for_sent(RESIDENT)
        assert NAMES[3] in greeting.text
        async with aiohttp.ClientSession() as http:  # another station's secret: refused
            update = {"update_id": 7, "message": {"message_id": 1, "date": 0, "text": "hi",
                      "chat": {"id": 9, "type": "private"}, "from": {"id": 9, "is_bot": False,
                                                                      "first_name": "X"}}}
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRETS[2]}
            async with http.post(urls[3], json=update, headers=headers) as resp:
                assert resp.status == 403
    finally:
        for stop in reversed(stoppers):
            await stop()
        await runner.cleanup()
        await services.db.close()


def test_station_bot_secrets_come_from_the_environment(tmp_path) -> None:  # noqa: ANN001
    config = tmp_path / "healthbot.toml"
    config.write_text(
        '[station]\ncode = "MAU"\n[[stations]]\nid = 2\ncode = "XuanLa"\nname = "Trạm B"\n'
        '[[stations]]\nid = 3\ncode = "ANKHANH"\nname = "Trạm C"\n', encoding="utf-8")
    settings = load_settings(config, env={"TELEGRAM_BOT_TOKEN_XUANLA": TOKENS[2]})
    assert settings.stations[0].telegram.token == TOKENS[2]
    assert settings.stations[1].telegram.token == ""  # station 3: the shared bot
    with pytest.raises(ConfigError, match="another bot's token"):
        load_settings(config, env={"TELEGRAM_BOT_TOKEN": TOKENS[2], "TELEGRAM_BOT_TOKEN_XUANLA": TOKENS[2]})
    webhook = tmp_path / "webhook.toml"
    webhook.write_text(config.read_text(encoding="utf-8") + '[telegram]\nmode = "webhook"\n'
                       'webhook_secret = "shared-secret"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET_XUANLA"):
        load_settings(webhook, env={"TELEGRAM_BOT_TOKEN_XUANLA": TOKENS[2]})
    assert load_settings(webhook, env={"TELEGRAM_BOT_TOKEN_XUANLA": TOKENS[2],
                                       "TELEGRAM_WEBHOOK_SECRET_XUANLA": "x" * 16})


def test_a_single_station_config_starts_one_telegram_bot(settings: Settings) -> None:
    shared = replace(settings, telegram=replace(settings.telegram, token=TOKENS[1]))
    assert len(channel_starters(shared)) == 1
