"""Telegram channel on python-telegram-bot 22: long polling (default) or a webhook on the shared app.

`start_telegram(bot, app)` builds a PTB `Application` against `[telegram] api_base_url` (any Bot
API-compatible server), registers one handler that turns each update into an `Inbound`
(`telegram_inbound`), calls `HealthBot.handle(inbound, TELEGRAM)` and sends the replies
(`telegram_send`). It sets the command menu in Vietnamese and English, registers a
`TelegramSender` in `services.extras["senders"]["telegram"]` for the outbox dispatcher, and
returns the coroutine function that stops it all. No conversation logic lives here.

Updates of one chat are handled in order (a per-chat lock); different chats run concurrently.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

from aiohttp import web
from telegram import CallbackQuery, Update
from telegram.constants import ChatMemberStatus
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.telegram_commands import set_command_menu
from bot.channels.telegram_conflict import polling_error_callback
from bot.channels.telegram_inbound import CHANNEL, to_inbound
from bot.channels.telegram_send import (
    UNREACHABLE_REASONS,
    TelegramSender,
    classify_send_error,
    file_base_url,
    send_outbound,
)
from bot.config import ConfigError
from bot.engine import HealthBot
from bot.model import TELEGRAM, Inbound, Outbound
from storage import people

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
CONCURRENT_UPDATES = 64  # different chats in parallel; one chat is always in order
ADMIN_CACHE_SECONDS = 60.0
MAX_REPLY_WAIT_SECONDS = 10.0  # a direct reply waits this long at most for a 429 to pass
REPLY_ATTEMPTS = 3
CONNECT_RETRY_FIRST_SECONDS = 2.0  # then doubling, up to the maximum
CONNECT_RETRY_MAX_SECONDS = 60.0
Stopper = Callable[[], Awaitable[None]]


class TelegramChannel:
    """Glue between one PTB `Application` and the conversation engine."""

    def __init__(self, bot: HealthBot, application: Application, secret: str = "") -> None:
        self.bot = bot
        self.application = application
        self.secret = secret
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}
        self._admins: dict[tuple[int, int], tuple[float, bool]] = {}
        # SQLite has one writer: concurrent transactions only fail with "database is locked".
        sqlite = bot.services.db.dialect == "sqlite"
        self._db_slots = asyncio.Semaphore(1 if sqlite else CONCURRENT_UPDATES)

    # -- inbound --

    async def on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """The PTB handler (polling mode)."""
        await self.handle_update(update)

    async def handle_update(self, update: Update) -> None:
        """One update in, replies out. Raises when the conversation core could not handle it
        (e.g. the database was unavailable): nothing was sent then, so a redelivery is safe."""
        me = self.application.bot
        inbound = to_inbound(update, me.username or "", me.id)
        # Answer a tap at once (the button stops spinning) but without awaiting before the chat
        # lock is taken: an await here would let a later update of the same chat overtake it.
        answering = (
            asyncio.create_task(self._answer(update.callback_query))
            if update.callback_query is not None
            else None
        )
        try:
            if inbound is None:
                return
            async with self._chat_turn(inbound.chat_id):
                if inbound.chat_kind == "group" and inbound.text.startswith("/"):
                    inbound = await self._with_admin_flag(inbound)
                async with self._db_slots:
                    # A crash after handling but before Telegram saw the next offset (or the
                    # webhook's 200) brings the update again: it is answered once only.
                    replies = await self.bot.handle(
                        inbound, TELEGRAM, update_key=str(update.update_id)
                    )
                await self.deliver(inbound, replies)
        finally:
            if answering is not None:
                await answering

    @staticmethod
    async def _answer(query: CallbackQuery) -> None:
        try:
            await query.answer()
        except TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", exc)

    @asynccontextmanager
    async def _chat_turn(self, chat_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._lock_users[chat_id] = self._lock_users.get(chat_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._lock_users[chat_id] -= 1
            if not self._lock_users[chat_id]:  # nobody waits: forget the lock
                del self._lock_users[chat_id], self._locks[chat_id]

    async def _with_admin_flag(self, inbound: Inbound) -> Inbound:
        key = (int(inbound.chat_id), int(inbound.user_id))
        cached = self._admins.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return replace(inbound, sender_is_group_admin=cached[1])
        try:
            member = await self.application.bot.get_chat_member(*key)
            is_admin = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
        except TelegramError as exc:
            log.info("getChatMember failed: %s", exc)
            is_admin = False
        self._admins[key] = (time.monotonic() + ADMIN_CACHE_SECONDS, is_admin)
        return replace(inbound, sender_is_group_admin=is_admin)

    # -- outbound --

    async def deliver(self, inbound: Inbound, replies: list[Outbound]) -> None:
        """Send the replies in order; a chat that cannot be written to is marked and skipped."""
        chat_id: int = int(inbound.chat_id)
        group_reply = (
            int(inbound.message_id)
            if inbound.chat_kind == "group" and inbound.message_id and inbound.event is None
            else None
        )
        for reply in replies:
            reply_to = (
                int(reply.reply_to_message_id)
                if (reply.reply_to_message_id or "").isdigit()
                else group_reply
            )
            for attempt in range(REPLY_ATTEMPTS):
                try:
                    await send_outbound(self.application.bot, chat_id, reply, reply_to)
                    break
                except RetryAfter as exc:
                    wait = exc.retry_after
                    seconds = wait.total_seconds() if isinstance(wait, timedelta) else wait
                    if seconds > MAX_REPLY_WAIT_SECONDS or attempt == REPLY_ATTEMPTS - 1:
                        log.warning("reply dropped: rate limited for %ss", seconds)
                        return
                    await asyncio.sleep(seconds)
                except Exception as exc:  # noqa: BLE001 - classified below
                    error = classify_send_error(exc)
                    if error.kind == "stop" and error.reason in UNREACHABLE_REASONS:
                        await self._mark_unreachable(str(chat_id), error.reason)
                        return
                    if error.kind == "migrated" and error.new_chat_id:
                        await self._migrate(str(chat_id), error.new_chat_id)
                        chat_id = int(error.new_chat_id)
                        continue
                    log.warning("reply not sent: %s", error)
                    break  # this reply is lost; the next one may still go out

    async def _mark_unreachable(self, chat_id: str, reason: str) -> None:
        log.info("telegram chat marked unreachable: %s", reason)
        async with self._db_slots, self.bot.services.db.sessions() as session, session.begin():
            await people.mark_chat_unreachable(session, CHANNEL, chat_id, reason)

    async def _migrate(self, old_id: str, new_id: str) -> None:
        async with self._db_slots, self.bot.services.db.sessions() as session, session.begin():
            await people.migrate_chat(session, CHANNEL, old_id, new_id)

    # -- webhook --

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /telegram/webhook: checked secret, then the update is handled before answering."""
        given = request.headers.get(SECRET_HEADER, "")
        if not self.secret or not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            data: Any = await request.json()
            update = Update.de_json(data, self.application.bot) if isinstance(data, dict) else None
        except Exception:  # noqa: BLE001 - malformed JSON or a shape PTB cannot read
            update = None
        if update is None:
            return web.Response(status=400, text="bad update")
        try:
            await self.handle_update(update)
        except Exception as exc:  # noqa: BLE001 - Telegram redelivers on a non-2xx answer
            log_failure("telegram update failed; Telegram will deliver it again", exc)
            return web.Response(status=500, text="try again")
        return web.Response(text="ok")

    # -- lifecycle helpers --

    async def set_commands(self) -> None:
        await set_command_menu(self.application.bot, self.bot.router.commands)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            log_failure("telegram update failed", context.error)


def log_failure(what: str, exc: BaseException) -> None:
    """Log the error type and where it happened, never its message: database errors carry the
    statement's parameters, i.e. what residents wrote."""
    frames = "".join(traceback.format_tb(exc.__traceback__)[-3:])
    log.error("%s: %s\n%s", what, type(exc).__name__, frames)


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


async def start_telegram(bot: HealthBot, app: web.Application) -> Stopper:
    """Start the Telegram channel; returns the coroutine function that stops it."""
    cfg = bot.services.settings.telegram
    # httpx logs every request URL at INFO, and the URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    polling = cfg.mode != "webhook"
    if not polling and not cfg.webhook_secret:
        raise ConfigError(
            '[telegram] mode = "webhook" needs webhook_secret (or TELEGRAM_WEBHOOK_SECRET)'
        )
    application = build_application(cfg.token, cfg.api_base_url, polling=polling)
    channel = TelegramChannel(bot, application, secret=cfg.webhook_secret)
    application.add_handler(TypeHandler(Update, channel.on_update))
    application.add_error_handler(channel.on_error)
    if not polling:
        app.router.add_post(WEBHOOK_PATH, channel.webhook)
    senders = bot.services.extras.setdefault("senders", {})

    async def connect() -> None:
        """Every step may be repeated after a failure (a retry goes on where it stopped)."""
        await application.initialize()
        if not application.running:
            await application.start()
        await channel.set_commands()
        if polling:
            assert application.updater is not None
            if not application.updater.running:
                await application.updater.start_polling(
                    allowed_updates=ALLOWED_UPDATES, error_callback=polling_error_callback()
                )
        elif cfg.webhook_url:
            await application.bot.set_webhook(
                cfg.webhook_url, secret_token=cfg.webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
        senders[CHANNEL] = TelegramSender(application.bot)
        log.info(
            "telegram channel started (%s) as @%s",
            "polling" if polling else "webhook",
            application.bot.username,
        )

    retrying: asyncio.Task[None] | None = None
    try:
        await connect()
    except InvalidToken:
        raise ConfigError(
            "[telegram] token: Telegram refused it; copy the token again from @BotFather"
        ) from None
    except NetworkError as exc:  # no internet at boot: web chat and Zalo must still run
        log.warning(
            "telegram: the Bot API is unreachable (%s); the other channels run and Telegram is "
            "retried in the background",
            type(exc).__name__,
        )
        retrying = asyncio.create_task(keep_connecting(connect))

    async def stop() -> None:
        if retrying is not None and not retrying.done():
            retrying.cancel()
            await asyncio.gather(retrying, return_exceptions=True)
        senders.pop(CHANNEL, None)
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    return stop


async def keep_connecting(connect: Callable[[], Awaitable[None]]) -> None:
    """Retry `connect` with a growing pause until it works or the token is refused."""
    delay = CONNECT_RETRY_FIRST_SECONDS
    while True:
        await asyncio.sleep(delay)
        try:
            await connect()
            return
        except InvalidToken:
            log.error("telegram: the token was refused; fix [telegram] token and restart")
            return
        except Exception as exc:  # noqa: BLE001 - only the type: messages may carry the URL
            delay = min(delay * 2, CONNECT_RETRY_MAX_SECONDS)
            log.warning("telegram: still unreachable (%s); next try in %.0f s",
                        type(exc).__name__, delay)
