"""Telegram channel on python-telegram-bot 22: long polling (default) or a webhook on the shared app.

`start_telegram(bot, app)` builds a PTB `Application` against `[telegram] api_base_url` (any Bot
API-compatible server), registers one handler that turns each update into an `Inbound`
(`telegram_inbound`), calls `HealthBot.handle(inbound, TELEGRAM)` and sends the replies
(`telegram_send`). It sets the command menu in Vietnamese and English, registers a
`TelegramSender` in `services.extras["senders"]["telegram"]` for the outbox dispatcher, and
returns the coroutine function that stops it all. No conversation logic lives here.

Every update goes through the inbox first (`inbox_pump`, `storage.inbox`): polling stores a fetched
batch before the next getUpdates confirms it (the offset), the webhook stores the update before
answering 200. Handling runs from the inbox, one chat at a time and in order, different chats
concurrently; a crash or a kill loses nothing and answers nothing twice (docs/telegram.md).

The channel itself (updates in, replies out, the webhook endpoint) is `telegram_channel`;
this module builds and starts it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from bot.channel_health import TOKEN_REJECTED, channel_health
from bot.channels.inbox_pump import InboxPump, worker_id
from bot.channels.telegram_channel import (  # noqa: F401  (re-exported)
    ADMIN_CACHE_SECONDS,
    ALLOWED_UPDATES,
    MAX_REPLY_WAIT_SECONDS,
    POLL_BACKOFF_SECONDS,
    POLL_HTTP_SLACK_SECONDS,
    POLL_TIMEOUT_SECONDS,
    REPLY_ATTEMPTS,
    SECRET_HEADER,
    TelegramChannel,
    _int_or_str,
    _is_int,
    log_failure,
)
from bot.channels.telegram_inbound import CHANNEL
from bot.channels.telegram_send import TelegramSender, file_base_url
from bot.config import ConfigError, Settings
from bot.engine import HealthBot
from bot.model import TELEGRAM
from core.stations import own_telegram, sender_key, settings_for

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
CONCURRENT_UPDATES = 64  # different chats in parallel; one chat is always in order
CONNECT_RETRY_FIRST_SECONDS = 2.0  # then doubling, up to the maximum
CONNECT_RETRY_MAX_SECONDS = 60.0
Stopper = Callable[[], Awaitable[None]]


def station_webhook_path(settings: Settings, station_id: int) -> str:
    """Where a station's own bot's webhook is served: `/telegram/webhook/<code, lower case>`."""
    return f"{WEBHOOK_PATH}/{settings_for(settings, station_id).station.code.lower()}"


def build_application(token: str, api_base_url: str, *, polling: bool) -> Application:
    builder = (
        Application.builder()
        .token(token)
        .base_url(api_base_url)
        .base_file_url(file_base_url(api_base_url))
        .concurrent_updates(CONCURRENT_UPDATES)
    )
    if not polling:
        builder = builder.updater(None)
    return builder.build()


async def start_telegram(
    bot: HealthBot, app: web.Application, station_id: int | None = None
) -> Stopper:
    """Start the Telegram channel; returns the coroutine function that stops it.

    With `station_id`, the station's own bot (issue 21): its updates belong to that station, its
    webhook is `/telegram/webhook/<code>`, its inbox and outbox sender are `telegram@<id>`.
    """
    settings = bot.services.settings
    cfg = settings.telegram if station_id is None else own_telegram(settings, station_id)
    if cfg is None:
        raise ConfigError(f"station {station_id} has no Telegram bot of its own")
    key = sender_key(CHANNEL, station_id)
    path = WEBHOOK_PATH if station_id is None else station_webhook_path(settings, station_id)
    # httpx logs every request URL at INFO, and the URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    polling = cfg.mode != "webhook"
    if not polling and not cfg.webhook_secret:
        raise ConfigError(
            '[telegram] mode = "webhook" needs webhook_secret (or TELEGRAM_WEBHOOK_SECRET)'
        )
    application = build_application(cfg.token, cfg.api_base_url, polling=False)
    channel = TelegramChannel(bot, application, secret=cfg.webhook_secret, station_id=station_id)
    application.add_error_handler(channel.on_error)
    pump = InboxPump(bot, key, TELEGRAM, channel, worker=worker_id(settings.web.port))
    channel.pump = pump
    poller: list[asyncio.Task[None]] = []
    if not polling:
        app.router.add_post(path, channel.webhook)
    senders = bot.services.extras.setdefault("senders", {})
    health = channel_health(bot.services)

    def refused() -> None:
        health.down(key, TOKEN_REJECTED)

    async def connect() -> None:
        """Every step may be repeated after a failure (a retry goes on where it stopped)."""
        await application.initialize()
        if not application.running:
            await application.start()
        await channel.set_commands()
        if not pump_started:
            pump_started.append(True)
            await pump.resume()  # what a crash or a kill left unfinished
            pump.start()
        if polling and not poller:
            await application.bot.delete_webhook()  # polling and a webhook exclude each other
            poller.append(asyncio.create_task(channel.poll_forever()))
        elif cfg.webhook_url:
            await application.bot.set_webhook(
                cfg.webhook_url, secret_token=cfg.webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
        senders[key] = TelegramSender(application.bot)
        health.up(key)
        log.info(
            "telegram channel started (%s) as @%s",
            "polling" if polling else "webhook",
            application.bot.username,
        )

    pump_started: list[bool] = []
    retrying: asyncio.Task[None] | None = None
    try:
        await connect()
    except InvalidToken:
        refused()
        where = "[telegram] token" if station_id is None else (
            f"[stations.telegram] token of station {settings_for(settings, station_id).station.code}")
        raise ConfigError(
            f"{where}: Telegram refused it; copy the token again from @BotFather"
        ) from None
    except NetworkError as exc:  # no internet at boot: web chat and Zalo must still run
        log.warning(
            "telegram: the Bot API is unreachable (%s); the other channels run and Telegram is "
            "retried in the background",
            type(exc).__name__,
        )
        retrying = asyncio.create_task(keep_connecting(connect, refused))

    async def stop() -> None:
        if retrying is not None and not retrying.done():
            retrying.cancel()
            await asyncio.gather(retrying, return_exceptions=True)
        senders.pop(key, None)
        for task in poller:
            task.cancel()
        await asyncio.gather(*poller, return_exceptions=True)
        await pump.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    return stop


async def keep_connecting(connect: Callable[[], Awaitable[None]],
                          refused: Callable[[], None] = lambda: None) -> None:
    """Retry `connect` with a growing pause until it works or the token is refused."""
    delay = CONNECT_RETRY_FIRST_SECONDS
    while True:
        await asyncio.sleep(delay)
        try:
            await connect()
            return
        except InvalidToken:
            log.error("telegram: the token was refused; fix [telegram] token and restart")
            refused()
            return
        except Exception as exc:  # noqa: BLE001 - only the type: messages may carry the URL
            delay = min(delay * 2, CONNECT_RETRY_MAX_SECONDS)
            log.warning("telegram: still unreachable (%s); next try in %.0f s",
                        type(exc).__name__, delay)
