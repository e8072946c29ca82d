"""The Telegram channel's glue: PTB updates in (inbox first), replies out, the webhook endpoint.

`TelegramChannel` joins one PTB `Application` to the conversation engine; `start_telegram`
(`bot.channels.telegram`) builds and starts it. Every update goes through the inbox first
(`inbox_pump`, `storage.inbox`): polling stores a fetched batch before the next getUpdates confirms
it (the offset), the webhook stores the update before answering 200.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import traceback
from dataclasses import replace
from datetime import timedelta
from typing import Any

from aiohttp import web
from telegram import CallbackQuery, Update
from telegram.constants import ChatMemberStatus
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot.channel_health import TOKEN_REJECTED, channel_health
from bot.channels.inbox_pump import InboxPump
from bot.channels.telegram_commands import set_command_menu
from bot.channels.telegram_conflict import polling_error_callback
from bot.channels.telegram_inbound import CHANNEL, to_inbound
from bot.channels.telegram_send import (
    UNREACHABLE_REASONS,
    classify_send_error,
    send_outbound,
)
from bot.channels.telegram_staff_commands import set_staff_command_menus
from bot.engine import HealthBot
from bot.inbound_scrub import strict_json
from bot.model import Inbound, Outbound
from core.stations import bot_view, sender_key
from storage import people
from storage.inbox import Arrival

log = logging.getLogger("bot.channels.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
ADMIN_CACHE_SECONDS = 60.0
MAX_REPLY_WAIT_SECONDS = 10.0  # a direct reply waits this long at most for a 429 to pass
REPLY_ATTEMPTS = 3
POLL_TIMEOUT_SECONDS = 30  # getUpdates long poll
POLL_HTTP_SLACK_SECONDS = 10.0
POLL_BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)  # after failed polls, then stays at the last


class TelegramChannel:
    """Glue between one PTB `Application` and the conversation engine."""

    def __init__(self, bot: HealthBot, application: Application, secret: str = "",
                 station_id: int | None = None) -> None:
        self.bot = bot
        self.application = application
        self.secret = secret
        self.station_id = station_id  # a station's own bot: its updates belong to that station
        self._admins: dict[tuple[int, int], tuple[float, bool]] = {}
        self.pump: InboxPump  # set by start_telegram

    # -- inbound: updates go to the inbox, the pump handles them --

    def arrival(self, update: Update) -> Arrival | None:
        """What the inbox records for an update (None: nothing the bot does anything with)."""
        inbound = self._inbound(update)
        if inbound is None:
            return None
        # A group's migration is queued with the supergroup's updates, so what is written in the
        # supergroup next finds the chat already moved (its area kept).
        order = inbound.event_arg if inbound.event == "migrated" and inbound.event_arg else None
        # Each bot counts its own update ids: a station bot's are told apart from the shared one's.
        key = str(update.update_id)
        if self.station_id is not None:
            key = f"{self.station_id}:{key}"
        return Arrival(key, order or inbound.chat_id, update.to_dict())

    def inbound_of(self, payload: dict[str, Any]) -> Inbound | None:
        update = Update.de_json(payload, self.application.bot)
        return self._inbound(update) if update is not None else None

    def _inbound(self, update: Update) -> Inbound | None:
        me = self.application.bot
        inbound = to_inbound(update, me.username or "", me.id)
        if inbound is None or self.station_id is None:
            return inbound
        return replace(inbound, station_id=self.station_id)

    async def prepare(self, inbound: Inbound, payload: dict[str, Any]) -> Inbound:
        """Stop a tapped button spinning; look up a group command's sender's admin rights."""
        if inbound.button is not None and isinstance(payload.get("callback_query"), dict):
            update = Update.de_json(payload, self.application.bot)
            if update is not None and update.callback_query is not None:
                asyncio.create_task(self._answer(update.callback_query))
        if inbound.chat_kind == "group" and inbound.text.startswith("/"):
            inbound = await self._with_admin_flag(inbound)
        return inbound

    async def poll_forever(self) -> None:
        """getUpdates in a loop; a batch is committed to the inbox BEFORE the next call's offset
        confirms it to Telegram, so a kill at any moment loses no update (issue 13.2)."""
        bot = self.application.bot
        offset: int | None = None
        failures = 0
        on_conflict = polling_error_callback()  # two pollers on one token: say so plainly
        while True:
            await self.pump.wait_for_room()
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT_SECONDS, allowed_updates=ALLOWED_UPDATES,
                    read_timeout=POLL_TIMEOUT_SECONDS + POLL_HTTP_SLACK_SECONDS,
                )
                failures = 0
            except InvalidToken:
                log.error("telegram: the token was refused; polling stops until the health check "
                          "finds it accepted again (telegram_watch)")
                channel_health(self.bot.services).down(
                    sender_key(CHANNEL, self.station_id), TOKEN_REJECTED)
                return
            except (NetworkError, Conflict, TelegramError) as exc:
                failures += 1
                if isinstance(exc, Conflict):
                    on_conflict(exc)
                else:
                    log.warning("telegram getUpdates failed (%s)", type(exc).__name__)
                await asyncio.sleep(POLL_BACKOFF_SECONDS[min(failures, 5) - 1])
                continue
            except Exception as exc:  # noqa: BLE001 - e.g. a batch PTB cannot read: keep polling
                failures += 1
                log.error("telegram getUpdates answer unusable (%s)", type(exc).__name__)
                await asyncio.sleep(POLL_BACKOFF_SECONDS[min(failures, 5) - 1])
                continue
            if not updates:
                continue
            arrivals = [a for u in updates if (a := self._safe_arrival(u)) is not None]
            await self._store(arrivals)
            offset = updates[-1].update_id + 1  # confirmed at the next call: they are durable

    def _safe_arrival(self, update: Update) -> Arrival | None:
        try:
            return self.arrival(update)
        except Exception as exc:  # noqa: BLE001 - an odd update must not stop polling
            log.warning("telegram update %s skipped: unreadable (%s)", update.update_id,
                        type(exc).__name__)
            return None

    async def _store(self, arrivals: list[Arrival]) -> None:
        """Commit to the inbox, retrying while the database is away (the offset waits too)."""
        failures = 0
        while True:
            try:
                await self.pump.receive(arrivals)
                return
            except Exception as exc:  # noqa: BLE001 - only the type: messages may carry data
                failures += 1
                log.warning("telegram updates not stored yet (%s); retrying", type(exc).__name__)
                await asyncio.sleep(POLL_BACKOFF_SECONDS[min(failures, 5) - 1])

    @staticmethod
    async def _answer(query: CallbackQuery) -> None:
        try:
            await query.answer()
        except TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", exc)

    async def _with_admin_flag(self, inbound: Inbound) -> Inbound:
        if not (_is_int(inbound.chat_id) and _is_int(inbound.user_id)):
            return inbound  # not a Telegram id: nobody to ask about
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
        chat_id: int | str = _int_or_str(inbound.chat_id)
        group_reply = (
            int(inbound.message_id)
            if inbound.chat_kind == "group" and _is_int(inbound.message_id)
            and inbound.event is None
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
                    if error.blames_chat and error.reason in UNREACHABLE_REASONS:
                        await self._mark_unreachable(str(chat_id), error.reason)
                        return
                    if error.kind == "migrated" and error.new_chat_id:
                        await self._migrate(str(chat_id), error.new_chat_id)
                        chat_id = _int_or_str(error.new_chat_id)
                        continue
                    log.warning("reply not sent: %s", error)
                    break  # this reply is lost; the next one may still go out

    async def _mark_unreachable(self, chat_id: str, reason: str) -> None:
        log.info("telegram chat marked unreachable: %s", reason)
        # The pump's slot: SQLite has one writer (deliver runs outside the handling's slot).
        async with self.pump.turns.db_slot(), self.bot.services.db.sessions() as session, \
                session.begin():
            await people.mark_chat_unreachable(session, CHANNEL, chat_id, reason)

    async def _migrate(self, old_id: str, new_id: str) -> None:
        async with self.pump.turns.db_slot(), self.bot.services.db.sessions() as session, \
                session.begin():
            await people.migrate_chat(session, CHANNEL, old_id, new_id)

    # -- webhook --

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /telegram/webhook: checked secret, the update stored in the inbox, then 200."""
        given = request.headers.get(SECRET_HEADER, "")
        if not self.secret or not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            data: Any = strict_json(await request.read())
        except (ValueError, RecursionError, UnicodeDecodeError):
            return web.Response(status=400, text="not json")
        except web.HTTPException as exc:  # too large
            return web.Response(status=exc.status, text="refused")
        if not isinstance(data, dict):
            return web.Response(status=400, text="not an update")
        try:
            update = Update.de_json(data, self.application.bot)
            arrival = self.arrival(update) if update is not None else None
        except Exception as exc:  # noqa: BLE001 - a shape PTB or we cannot read
            # Acknowledged (a non-2xx answer makes Telegram redeliver it forever), logged once.
            log.warning("telegram update ignored: unreadable (%s)", type(exc).__name__)
            return web.Response(text="ignored")
        if arrival is None:
            return web.Response(text="ignored")
        try:
            await self.pump.receive([arrival])
        except Exception as exc:  # noqa: BLE001 - not stored: Telegram must deliver it again
            log.error("telegram update not stored (%s); Telegram will deliver it again",
                      type(exc).__name__)
            return web.Response(status=503, text="try again")
        return web.Response(text="ok")

    # -- lifecycle helpers --

    async def set_commands(self) -> None:
        settings = self.bot.services.settings
        if self.station_id is not None:  # a station's own bot: that station's staff only
            settings = bot_view(settings, self.station_id)
        await set_command_menu(self.application.bot, self.bot.router.commands)
        await set_staff_command_menus(self.application.bot, settings, self.bot.router.commands)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            log_failure("telegram update failed", context.error)


def _is_int(value: str | None) -> bool:
    return bool(value) and str(value).lstrip("-").isdigit() and len(str(value)) < 20


def _int_or_str(value: str) -> int | str:
    """Telegram ids are integers; anything else (a forged update) is passed as given."""
    return int(value) if _is_int(value) else value


def log_failure(what: str, exc: BaseException) -> None:
    """Log the error type and where it happened, never its message: database errors carry the
    statement's parameters, i.e. what residents wrote."""
    frames = "".join(traceback.format_tb(exc.__traceback__)[-3:])
    log.error("%s: %s\n%s", what, type(exc).__name__, frames)

