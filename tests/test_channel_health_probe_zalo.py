"""The same health check for a Zalo Bot in webhook mode (`bot.channels.zalo_bot_watch`): a
station's own Zalo Bot whose token is refused at start is named `token_rejected` and set up
(its webhook registered) once the fake accepts the token again, without a restart; revoked later
while nobody is sent anything, it is named within a check interval and comes back the same way.
The shared Zalo Bot answers throughout. Polling needs no watch (each poll says so itself:
tests/test_channel_health.py). Over real HTTP to the fake Zalo Bot Platform; SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace

import pytest

from bot.config import Area, Settings, StationEntry, StationZaloBot
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.test_channel_health_probe import INTERVAL, serving, wait_for_down
from tests.test_station_zalo_bots import NAMES, TOKENS, USERS
from tests.test_telegram_e2e import free_port

SECRETS = {1: "shared-zalo-secret", 2: "xuanla-zalo-secret"}


@pytest.fixture
async def fakes() -> AsyncIterator[dict[int, FakeZaloBot]]:
    async with AsyncExitStack() as stack:
        yield {
            sid: await stack.enter_async_context(FakeZaloBot(token))
            for sid, token in TOKENS.items()
        }


def webhook_bots(settings: Settings, fakes: dict[int, FakeZaloBot], port: int) -> Settings:
    base = f"http://127.0.0.1:{port}/zalo/bot/webhook"
    own = StationZaloBot(
        token=fakes[2].token,
        api_base_url=fakes[2].bot_api_url,
        webhook_url=f"{base}/xuanla",
        webhook_secret=SECRETS[2],
    )
    station_b = StationEntry(
        id=2,
        code="XUANLA",
        name=NAMES[2],
        ward="Phường Xuân La",
        areas=[Area("TDPA", "Tổ dân phố A")],
        zalo_bot=own,
    )
    zalo = replace(
        settings.zalo_bot,
        token=fakes[1].token,
        api_base_url=fakes[1].bot_api_url,
        mode="webhook",
        webhook_url=base,
        webhook_secret=SECRETS[1],
        health_check_seconds=INTERVAL,
    )
    return replace(
        settings, zalo_bot=zalo, station=replace(settings.station, code="MAU"), stations=[station_b]
    )


async def answered(fake: FakeZaloBot, user: str, sid: int) -> None:
    before = len(fake.sent_to(user))
    await fake.push_text(user, "/start")
    sent = await fake.wait_for_sent(user, before + 1)
    assert NAMES[sid] in sent[-1].text


async def test_a_station_zalo_bot_refused_at_start_or_revoked_comes_back_without_restart(
    settings: Settings,
    fakes: dict[int, FakeZaloBot],
    clock: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fakes[2].revoke_token()
    port = free_port()
    with caplog.at_level(logging.INFO):
        async with serving(webhook_bots(settings, fakes, port), clock, port) as (_, base):
            _s, ready, metrics = await wait_for_down(base, {"zalo_bot@2": "token_rejected"})
            assert 'healthbot_channel_up{channel="zalo_bot"} 1.0' in metrics
            assert fakes[2].webhook is None  # not set up while refused
            await answered(fakes[1], USERS[1], 1)

            fakes[2].restore_token()
            await wait_for_down(base, {})
            assert fakes[2].webhook is not None
            assert fakes[2].webhook["secret_token"] == SECRETS[2]
            await answered(fakes[2], USERS[2], 2)

            fakes[2].revoke_token()  # later, while nobody is sent anything
            await wait_for_down(base, {"zalo_bot@2": "token_rejected"})
            fakes[2].restore_token()
            _s, ready, metrics = await wait_for_down(base, {})
            assert 'healthbot_channel_up{channel="zalo_bot@2"} 1.0' in metrics
            await answered(fakes[2], USERS[2], 2)
            await answered(fakes[1], USERS[1], 1)
            assert fakes[1].calls_to("getWebhookInfo")  # the shared bot is checked too
    assert "zalo_bot@2 is down: token_rejected" in caplog.text
    for token in TOKENS.values():
        secret = token.split(":")[1]
        assert secret not in caplog.text and secret not in metrics and secret not in str(ready)
