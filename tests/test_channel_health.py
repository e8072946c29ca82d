"""`/readyz` and `/metrics` name each station channel that is down, and why (issue 21).

One province installation over the local fake servers: the shared Telegram bot and Zalo Bot work,
station 2's own Telegram bot and own Zalo Bot have a token their fake servers refuse (they answer
401 Unauthorized, as the platforms do), and station 3's own Zalo OA has its refresh refused by
its fake OAuth server. The installation keeps serving; the health check and the metrics say which
channel is down (`telegram@2: token_rejected`) without printing any token. SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import build_bot, build_services, build_web_app, channel_starters
from bot.config import Settings, StationEntry, StationTelegram, StationZaloBot
from bot.engine import HealthBot
from bot.model import Outbound
from scheduler.dispatcher import Dispatcher
from storage import outbox, tokens
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.test_station_zalo_oa import RESIDENTS, fake_oa, provider, three_oas
from tests.test_telegram_e2e import free_port

WRONG = {"telegram": "222222:REVOKED-XUANLA-BOT", "zalo_bot": "2222222222222222222:revoked-bot"}
RESIDENT = 8101


@asynccontextmanager
async def serving(
    settings: Settings, clock: object, port: int | None = None
) -> AsyncIterator[tuple[HealthBot, str]]:
    """What `healthbot run` serves: every channel started, /readyz and /metrics on the web app
    (on `port` when the webhooks' URLs name it, else a free one)."""
    async with AsyncExitStack() as stack:
        services = build_services(settings, clock=clock)  # type: ignore[arg-type]
        stack.push_async_callback(services.db.close)
        bot = build_bot(services)
        app = build_web_app(bot)
        for start in channel_starters(settings):
            stack.push_async_callback(await start(bot, app))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        port = port or free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield bot, f"http://127.0.0.1:{port}"


async def health(base: str) -> tuple[int, dict[str, Any], str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/readyz") as answer:
            status, ready = answer.status, await answer.json()
        async with http.get(f"{base}/metrics") as answer:
            metrics = await answer.text()
    return status, ready, metrics


async def test_a_station_bot_whose_token_is_refused_is_named_and_the_rest_runs(
    settings: Settings, clock: object, caplog: pytest.LogCaptureFixture,
) -> None:
    async with AsyncExitStack() as stack:
        telegram = {sid: await stack.enter_async_context(FakeTelegram(token, flood_limits=None))
                    for sid, token in ((1, "111111:SHARED-BOT"), (2, "222222:XUANLA-BOT"))}
        zalo = {sid: await stack.enter_async_context(FakeZaloBot(token)) for sid, token in (
            (1, "1111111111111111111:shared-bot"), (2, "2222222222222222222:xuanla-bot"))}
        own = StationEntry(
            id=2, code="XUANLA", name="Trạm Y tế phường Xuân La",
            telegram=StationTelegram(token=WRONG["telegram"], api_base_url=telegram[2].bot_api_url),
            zalo_bot=StationZaloBot(token=WRONG["zalo_bot"], api_base_url=zalo[2].bot_api_url))
        province = replace(
            settings, station=replace(settings.station, code="MAU"), stations=[own],
            telegram=replace(settings.telegram, token=telegram[1].token,
                             api_base_url=telegram[1].bot_api_url, mode="polling"),
            zalo_bot=replace(settings.zalo_bot, token=zalo[1].token,
                             api_base_url=zalo[1].bot_api_url, mode="polling"))
        with caplog.at_level(logging.INFO):
            async with serving(province, clock) as (_bot, base):
                await zalo[2].wait_until(lambda: bool(zalo[2].calls_to("getUpdates")))
                status, ready, metrics = await health(base)
                await telegram[1].push_message(RESIDENT, RESIDENT, "/start")  # the shared bot
                assert await telegram[1].wait_for_sent(RESIDENT)  # still answers
        assert status == 200 and ready["ready"] is True  # the database and the rest serve
        assert ready["channels_down"] == {"telegram@2": "token_rejected",
                                          "zalo_bot@2": "token_rejected"}
        assert 'healthbot_channel_up{channel="telegram"} 1.0' in metrics
        assert 'healthbot_channel_up{channel="zalo_bot"} 1.0' in metrics
        assert 'healthbot_channel_up{channel="telegram@2"} 0.0' in metrics
        assert ('healthbot_channel_down{channel="zalo_bot@2",reason="token_rejected"} 1.0'
                in metrics)
        for token in (*WRONG.values(), telegram[1].token, zalo[1].token):
            secret = token.split(":")[1]
            assert secret not in str(ready) and secret not in metrics
            assert secret not in caplog.text
        assert "telegram@2 is down: token_rejected" in caplog.text  # the operator's log says so


async def test_a_station_oa_whose_refresh_is_refused_is_named_until_it_is_reconnected(
    settings: Settings, clock: Any,
) -> None:
    async with AsyncExitStack() as stack:
        fakes = {sid: await stack.enter_async_context(fake_oa(sid, clock)) for sid in (1, 2, 3)}
        province = three_oas(settings, fakes)
        bot, base = await stack.enter_async_context(serving(province, clock))
        services = bot.services
        async with services.db.sessions() as session, session.begin():
            for sid, fake in fakes.items():
                fake.webhook_url = f"{base}/zalo/oa/webhook" + ("/ankhanh" if sid == 3 else (
                    "/xuanla" if sid == 2 else ""))
                access, refresh = fake.issue_tokens()
                await tokens.save_token(session, provider(sid), access, refresh,
                                        clock.now + timedelta(hours=25))
        assert (await fakes[3].send_text(RESIDENTS[3], "/start")).status == 200
        await fakes[3].wait_for_sent(RESIDENTS[3])
        async with services.db.sessions() as session, session.begin():  # revoked on Zalo's side
            await tokens.save_token(session, provider(3), "expired-access", "revoked-refresh",
                                    clock.now - timedelta(minutes=1))
            await outbox.enqueue(session, dedupe_key="notice-3", channel="zalo_oa",
                                 chat_id=RESIDENTS[3], payload=Outbound("Nhắc lịch").to_payload(),
                                 not_before=clock.now)
        await Dispatcher(services.db, services.extras["senders"], services.clock).run_once()
        status, ready, metrics = await health(base)
        assert status == 200 and ready["channels_down"] == {"zalo_oa@3": "token_rejected"}
        assert ('healthbot_channel_down{channel="zalo_oa@3",reason="token_rejected"} 1.0'
                in metrics)
        assert "revoked-refresh" not in metrics and "expired-access" not in str(ready)
        access, refresh = fakes[3].issue_tokens()  # `healthbot zalo exchange-code --station`
        async with services.db.sessions() as session, session.begin():
            await tokens.save_token(session, provider(3), access, refresh,
                                    clock.now + timedelta(hours=25))
        clock.advance(minutes=6)  # the refused send is retried after 5 minutes
        await Dispatcher(services.db, services.extras["senders"], services.clock).run_once()
        assert [sent.text for sent in fakes[3].sent_to(RESIDENTS[3])][-1] == "Nhắc lịch"
        status, ready, metrics = await health(base)
        assert "channels_down" not in ready
        assert 'healthbot_channel_up{channel="zalo_oa@3"} 1.0' in metrics
        assert "healthbot_channel_down{" not in metrics
