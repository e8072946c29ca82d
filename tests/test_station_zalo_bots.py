"""A station with its own Zalo Bot (issue 21), beside the shared provincial Zalo Bot.

Station 1 uses the shared bot, station 2 (XUANLA) its own, each on its own fake Zalo Bot
Platform with its own token. What station 2's bot receives belongs to station 2 and is answered by
that bot; later messages to its residents (the outbox) go through it too, never the shared one.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.app import channel_starters
from bot.config import Area, Settings, StationEntry, StationZaloBot, load_settings
from bot.engine import HealthBot
from bot.model import Outbound
from scheduler.dispatcher import Dispatcher
from storage import outbox
from storage.models import Identity, Person
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.test_station_bots import every_channel

TOKENS = {1: "1111111111111111111:shared-zalo-bot", 2: "2222222222222222222:xuanla-zalo-bot"}
NAMES = {1: "Trạm Y tế phường Mẫu", 2: "Trạm Y tế phường Xuân La"}
USERS = {1: "a1b2c3d4e5f6a7b8c9d0", 2: "f0e9d8c7b6a5f4e3d2c1"}


def two_bots(settings: Settings, fakes: dict[int, FakeZaloBot]) -> Settings:
    own = StationZaloBot(token=fakes[2].token, api_base_url=fakes[2].bot_api_url)
    station_b = StationEntry(id=2, code="XUANLA", name=NAMES[2], ward="Phường Xuân La",
                             areas=[Area("TDPA", "Tổ dân phố A")], zalo_bot=own)
    zalo = replace(settings.zalo_bot, token=fakes[1].token, api_base_url=fakes[1].bot_api_url,
                   mode="polling")
    return replace(settings, zalo_bot=zalo, station=replace(settings.station, code="MAU"),
                   stations=[station_b])


@pytest.fixture
async def fakes() -> AsyncIterator[dict[int, FakeZaloBot]]:
    async with AsyncExitStack() as stack:
        yield {sid: await stack.enter_async_context(FakeZaloBot(token))
               for sid, token in TOKENS.items()}


@pytest.fixture
async def bot(settings: Settings, fakes: dict[int, FakeZaloBot],
              clock: object) -> AsyncIterator[HealthBot]:
    async with every_channel(two_bots(settings, fakes), clock, fakes.values()) as healthbot:
        yield healthbot


async def station_of(bot: HealthBot, user_id: str) -> int:
    async with bot.services.db.sessions() as session:
        stmt = select(Person.station_id).join(Identity, Identity.person_id == Person.id).where(
            Identity.channel == "zalo_bot", Identity.external_id == user_id)
        return (await session.execute(stmt)).scalars().one()


async def test_each_zalo_bot_answers_for_its_own_station_and_sends_later_messages(
    bot: HealthBot, fakes: dict[int, FakeZaloBot],
) -> None:
    for sid, fake in fakes.items():
        await fake.push_text(USERS[sid], "/start")
        (greeting,) = await fake.wait_for_sent(USERS[sid])
        assert NAMES[sid] in greeting.text
        assert await station_of(bot, USERS[sid]) == sid
    services = bot.services
    async with services.db.sessions() as session, session.begin():
        for sid in TOKENS:
            await outbox.enqueue(session, dedupe_key=f"notice-{sid}", channel="zalo_bot",
                                 chat_id=USERS[sid], payload=Outbound(f"Thông báo {sid}").to_payload(),
                                 not_before=services.clock())
    assert await Dispatcher(services.db, services.extras["senders"], services.clock).run_once() == 2
    for sid, fake in fakes.items():
        (_greeting, notice) = await fake.wait_for_sent(USERS[sid], 2)
        assert notice.text == f"Thông báo {sid}"
        other = fakes[3 - sid]
        assert not other.sent_to(USERS[sid])  # never through the other station's bot


def test_zalo_bot_secrets_of_a_station_come_from_the_environment(tmp_path) -> None:  # noqa: ANN001
    config = tmp_path / "healthbot.toml"
    config.write_text('[station]\ncode = "MAU"\n[[stations]]\nid = 2\ncode = "XUANLA"\n'
                      'name = "Trạm B"\n', encoding="utf-8")
    settings = load_settings(config, env={"ZALO_BOT_TOKEN_XUANLA": TOKENS[2]})
    assert settings.stations[0].zalo_bot.token == TOKENS[2]
    assert len(channel_starters(settings)) == 1  # station 2's bot only (no shared token)
