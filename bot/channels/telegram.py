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
from bot.channels.telegram_watch import TelegramWatch
from bot.config import ConfigError, Settings
from bot.engine import HealthBot
from bot.model import TELEGRAM
from core.stations import own_telegram, sender_key, settings_for

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
CONCURRENT_UPDATES = 64  # different chats in parallel; one chat is always in order
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

    def running() -> bool:
        """Updates come in: a webhook always listens; the poller stops on a refused token."""
        return not polling or (bool(poller) and not poller[-1].done())

    async def register_webhook() -> None:
        await application.bot.set_webhook(
            cfg.webhook_url, secret_token=cfg.webhook_secret, allowed_updates=ALLOWED_UPDATES
        )

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
        if polling and not running():
            await application.bot.delete_webhook()  # polling and a webhook exclude each other
            poller.append(asyncio.create_task(channel.poll_forever()))
        elif not polling and cfg.webhook_url:
            await register_webhook()
        senders[key] = TelegramSender(application.bot)
        health.up(key)
        log.info(
            "telegram channel started (%s) as @%s",
            "polling" if polling else "webhook",
            application.bot.username,
        )

    pump_started: list[bool] = []
    watch = TelegramWatch(
        key, application.bot, health, connect=connect, running=running,
        interval=cfg.health_check_seconds, webhook_url=None if polling else cfg.webhook_url,
        register_webhook=register_webhook if not polling and cfg.webhook_url else None,
    )
    try:
        await connect()
        watch.connected = True
    except InvalidToken:
        health.down(key, TOKEN_REJECTED)
        where = "[telegram] token" if station_id is None else (
            f"[stations.telegram] token of station {settings_for(settings, station_id).station.code}")
        problem = f"{where}: Telegram refused it; copy the token again from @BotFather"
        if station_id is None:
            raise ConfigError(problem) from None
        # A station's bot: the others run, and this one starts as soon as the token is accepted
        # (a refusal may be transient), with no restart.
        log.error("%s; the other channels run and it is tried again in the background", problem)
        watch.failures = 1
    except NetworkError as exc:  # no internet at boot: web chat and Zalo must still run
        log.warning(
            "telegram: the Bot API is unreachable (%s); the other channels run and Telegram is "
            "retried in the background",
            type(exc).__name__,
        )
        watch.failures = 1
    watching = asyncio.create_task(watch.run())

    async def stop() -> None:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        senders.pop(key, None)
        for task in poller:
            task.cancel()
        await asyncio.gather(*poller, return_exceptions=True)
        await pump.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    return stop
