"""The Telegram health check (`bot.channels.telegram_watch`): a bot whose token is revoked while
nobody is sent anything is named in `/readyz` and `/metrics` within one check interval, and comes
back by itself, without a restart, once Telegram accepts the token again; so does a station bot
whose token was refused at start. The other stations' bots stay up and answer throughout.

One province installation as `healthbot run` serves it (every channel started, `/readyz` and
`/metrics` on the web app), over python-telegram-bot and real HTTP to one fake Bot API per bot
(tests/fakes/telegram_api.py: a revoked token answers every call
`{"ok":false,"error_code":401,"description":"Unauthorized"}` and its updates are not delivered).
The check runs every 0.2 s here instead of 300. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

import pytest

from bot.config import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.test_channel_health import health, serving
from tests.test_station_bots import NAMES, SECRETS, TOKENS, three_bots
from tests.test_telegram_e2e import free_port

INTERVAL = 0.2  # seconds between checks (production: [telegram] health_check_seconds = 300)
RESIDENT = 8300


@pytest.fixture
async def fakes() -> AsyncIterator[dict[int, FakeTelegram]]:
    async with AsyncExitStack() as stack:
        yield {
            sid: await stack.enter_async_context(FakeTelegram(token, flood_limits=None))
            for sid, token in TOKENS.items()
        }


def province(settings: Settings, fakes: dict[int, FakeTelegram], mode: str, port: int) -> Settings:
    base = f"http://127.0.0.1:{port}/telegram/webhook"
    urls = {1: base, 2: f"{base}/xuanla", 3: f"{base}/ankhanh"} if mode == "webhook" else {}
    three = three_bots(settings, fakes, mode=mode, urls=urls)
    return replace(three, telegram=replace(three.telegram, health_check_seconds=INTERVAL))


async def wait_for_down(
    base: str, expected: dict[str, str], timeout: float = 10.0
) -> tuple[float, dict[str, Any], str]:
    """Poll /readyz until its `channels_down` is `expected`; seconds taken, /readyz, /metrics."""
    started = time.monotonic()
    while True:
        status, ready, metrics = await health(base)
        assert status == 200 and ready["ready"] is True  # a channel down never fails readiness
        if ready.get("channels_down", {}) == expected:
            return time.monotonic() - started, ready, metrics
        if time.monotonic() - started > timeout:
            raise AssertionError(f"/readyz still says {ready}, expected {expected}")
        await asyncio.sleep(0.05)


async def answered(fake: FakeTelegram, user: int, sid: int) -> None:
    """A resident's /start to this bot gets its station's greeting."""
    before = len(fake.sent_to(user))
    await fake.push_message(user, user, "/start")
    sent = await fake.wait_for_sent(user, before + 1)
    assert NAMES[sid] in sent[-1].text


def assert_no_token_in(*texts: str) -> None:
    for token in TOKENS.values():
        assert all(token.split(":")[1] not in text for text in texts)


async def test_a_revoked_webhook_bot_is_named_within_one_check_and_comes_back_without_restart(
    settings: Settings,
    fakes: dict[int, FakeTelegram],
    clock: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    with caplog.at_level(logging.INFO):
        async with serving(province(settings, fakes, "webhook", port), clock, port) as (_, base):
            _seconds, ready, _metrics = await wait_for_down(base, {})
            registered = len(fakes[2].calls_to("setWebhook"))
            before = len(fakes[2].calls)
            fakes[2].revoke_token()  # @BotFather /revoke; nobody is being sent anything
            seconds, ready, metrics = await wait_for_down(base, {"telegram@2": "token_rejected"})
            assert seconds < 25 * INTERVAL  # a check or two (0.2 s), room for a loaded machine
            refused = [c for c in fakes[2].calls[before:] if c.status == 401]
            assert refused[0].method == "getMe"  # the check found it, not a send
            assert 'healthbot_channel_up{channel="telegram@2"} 0.0' in metrics
            assert (
                'healthbot_channel_down{channel="telegram@2",reason="token_rejected"} 1.0'
                in metrics
            )
            assert 'healthbot_channel_up{channel="telegram"} 1.0' in metrics
            assert 'healthbot_channel_up{channel="telegram@3"} 1.0' in metrics
            for sid in (1, 3):  # the other stations' bots still answer
                await answered(fakes[sid], RESIDENT + sid, sid)
            await fakes[2].push_message(RESIDENT + 2, RESIDENT + 2, "/start")
            assert fakes[2].webhook_deliveries == []  # Telegram delivers nothing meanwhile

            fakes[2].restore_token()
            _seconds, ready, metrics = await wait_for_down(base, {})
            assert 'healthbot_channel_up{channel="telegram@2"} 1.0' in metrics
            assert "healthbot_channel_down{" not in metrics
            # started again: the webhook set again with its own secret, and it answers
            assert len(fakes[2].calls_to("setWebhook")) == registered + 1
            assert fakes[2].webhook is not None
            assert fakes[2].webhook["secret_token"] == SECRETS[2]
            await answered(fakes[2], RESIDENT + 20, 2)
            await answered(fakes[3], RESIDENT + 3, 3)
            await fakes[2].wait_until(lambda: fakes[2].calls_to("getWebhookInfo"))  # checked on
    assert "telegram@2 is down: token_rejected" in caplog.text
    assert "telegram@2 is up again" in caplog.text
    assert_no_token_in(caplog.text, str(ready), metrics)


async def test_a_station_bot_refused_at_start_starts_once_the_token_is_accepted(
    settings: Settings,
    fakes: dict[int, FakeTelegram],
    clock: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fakes[2].revoke_token()  # a 401 at start: transient, or the token being fixed in @BotFather
    port = free_port()
    with caplog.at_level(logging.INFO):
        async with serving(province(settings, fakes, "polling", port), clock, port) as (_, base):
            await fakes[1].wait_for_poll()
            await wait_for_down(base, {"telegram@2": "token_rejected"})
            await answered(fakes[1], RESIDENT + 1, 1)  # the shared bot runs meanwhile
            assert not fakes[2].calls_to("getUpdates")  # never started

            fakes[2].restore_token()
            await wait_for_down(base, {})
            await fakes[2].wait_for_poll()  # started: polling
            await answered(fakes[2], RESIDENT + 2, 2)

            fakes[2].revoke_token()  # later revoked while polling: the poller stops
            await wait_for_down(base, {"telegram@2": "token_rejected"})
            fakes[2].restore_token()
            _seconds, ready, metrics = await wait_for_down(base, {})
            await answered(fakes[2], RESIDENT + 22, 2)  # polling again, no restart
            await answered(fakes[3], RESIDENT + 3, 3)
    assert "copy the token again from @BotFather" in caplog.text
    assert_no_token_in(caplog.text, str(ready), metrics)


async def test_a_dropped_webhook_is_set_again_and_a_failing_one_is_named(
    settings: Settings,
    fakes: dict[int, FakeTelegram],
    clock: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    with caplog.at_level(logging.INFO):
        async with serving(province(settings, fakes, "webhook", port), clock, port) as (_, base):
            ours = fakes[3].webhook
            assert ours is not None
            fakes[3].drop_webhook()  # deleted by another tool: residents' messages go nowhere
            await fakes[3].wait_until(lambda: fakes[3].webhook is not None)
            assert fakes[3].webhook["url"] == ours["url"]
            await answered(fakes[3], RESIDENT + 3, 3)
            await wait_for_down(base, {})

            # Telegram's posts fail (here: the secret it sends is not ours) and an update waits
            fakes[3].webhook["secret_token"] = "not-our-secret"
            await fakes[3].push_message(RESIDENT + 30, RESIDENT + 30, "/start")
            await wait_for_down(base, {"telegram@3": "webhook_failing"})
            await answered(fakes[1], RESIDENT + 1, 1)
    assert "telegram@3: the webhook is not delivered to: Wrong response from the webhook: 403" in (
        caplog.text
    )


def test_the_check_interval_is_configured_and_checked(tmp_path) -> None:  # noqa: ANN001
    from bot.config import ConfigError, load_settings

    assert load_settings(None, env={}).telegram.health_check_seconds == 300
    config = tmp_path / "healthbot.toml"
    for value, ok in (("0", True), ("60", True), ("5", False), ("-1", False)):
        config.write_text(f"[telegram]\nhealth_check_seconds = {value}\n", encoding="utf-8")
        if ok:
            assert load_settings(config, env={}).telegram.health_check_seconds == float(value)
        else:
            with pytest.raises(ConfigError, match="health_check_seconds"):
                load_settings(config, env={})
