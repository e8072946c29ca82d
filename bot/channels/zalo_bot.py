"""Zalo Bot Platform channel: polling with getUpdates (default) or a webhook on the shared app.

`start_zalo_bot(bot, app)` turns each update into an `Inbound`, calls
`HealthBot.handle(inbound, ZALO_BOT)` and sends the replies as plain text (`zalo_bot_send`). It
registers a `ZaloBotSender` in `services.extras["senders"]["zalo_bot"]` for the outbox dispatcher and
returns the coroutine function that stops it all. No conversation logic lives here.

Platform facts (zalo-api.md section 1): getUpdates returns ONE update per call and has no offsets
(408 = nothing new); polling and webhook exclude each other; the webhook body is documented wrapped
(`{"ok": true, "result": {...}}`) but observed flat, so both are accepted; the secret header is
compared in constant time; redeliveries are recognised by `message_id`.

Every update goes to the inbox first (`inbox_pump`): a polled update is committed the moment it
arrives (getUpdates has no offset to hold back: once Zalo returned it, it is ours to keep, so the
only unavoidable gap is between Zalo's answer and that commit); a webhook update is committed
before the 200. Handling runs from the inbox, so a crash loses nothing after that commit.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web

from bot.channel_health import TOKEN_REJECTED, UP, channel_health
from bot.channels.inbox_pump import InboxPump, worker_id
from bot.channels.zalo_bot_send import (
    CHANNEL,
    ZaloBotClient,
    ZaloBotError,
    ZaloBotSender,
    classify_send_error,
    send_outbound,
)
from bot.channels.zalo_bot_watch import ZaloBotWatch
from bot.channels.zalo_common import ChatTurns, Inflight
from bot.config import ConfigError, ZaloBot
from bot.engine import HealthBot
from bot.inbound_scrub import strict_json
from bot.model import ZALO_BOT, Inbound, Outbound
from core.stations import own_zalo_bot, sender_key, settings_for
from storage import people
from storage.inbox import Arrival

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/zalo/bot/webhook"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL_TIMEOUT_SECONDS = 30  # getUpdates "timeout", sent as a string
POLL_HTTP_SLACK_SECONDS = 5.0  # the HTTP call may take the poll timeout plus this
NOTHING_NEW = 408
UNAUTHORIZED = 401  # a refused token, as the clients read it (zalo-api.md 1.1 [I])
POLL_BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)  # after failed polls, then stays at the last
MAX_WEBHOOK_BODY = 1024 * 1024  # as OpenClaw: nothing legitimate is larger
KINDS = {"PRIVATE": "private", "GROUP": "group"}

Stopper = Callable[[], Awaitable[None]]


class MalformedUpdate(ValueError):
    """The update does not have the documented shape; it is skipped (and never logged in full)."""


def unwrap(body: Any) -> dict[str, Any]:
    """The update inside a webhook body: documented wrapped `{ok, result}` or observed flat."""
    if isinstance(body, dict) and isinstance(body.get("result"), dict) and "message" not in body:
        body = body["result"]
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        raise MalformedUpdate("no message object")
    return body


def to_inbound(update: dict[str, Any]) -> Inbound:
    """One Bot Platform update -> `Inbound`; raises `MalformedUpdate` for unusable shapes."""
    message = update["message"]
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    message_id = message.get("message_id")
    chat_id = chat.get("id") or sender.get("id")  # private chats: chat.id == from.id
    user_id = sender.get("id") or chat_id
    if not isinstance(message_id, str) or not message_id or not chat_id or not user_id:
        raise MalformedUpdate("message without message_id, chat or sender")
    kind = KINDS.get(str(chat.get("chat_type") or "PRIVATE").upper(), "private")
    event = str(update.get("event_name") or "")
    photo = message.get("photo_url") if isinstance(message.get("photo_url"), str) else None
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    if event == "message.image.received" or photo:
        text = message.get("caption") if isinstance(message.get("caption"), str) else text
    # Stickers and unsupported media carry no text: the core answers with its menu.
    return Inbound(
        channel=CHANNEL,
        chat_id=str(chat_id),
        user_id=str(user_id),
        chat_kind=kind,  # type: ignore[arg-type]
        text=text or "",
        display_name=str(sender.get("display_name") or "")[:64],
        message_id=message_id,
        photo=photo,
        # Groups are not available in practice (zalo-api.md 1.4); if one appears, only commands count.
        addressed=kind == "private" or (text or "").startswith("/"),
    )


class ZaloBotChannel:
    """Glue between the Bot Platform and the conversation engine."""

    def __init__(self, bot: HealthBot, client: ZaloBotClient, secret: str = "",
                 station_id: int | None = None) -> None:
        self.bot = bot
        self.client = client
        self.secret = secret
        self.station_id = station_id  # a station's own bot: its updates belong to that station
        self.turns = ChatTurns(bot.services.db)  # handling, in order per chat
        self.send_turns = ChatTurns(bot.services.db)  # replies keep that order when sent
        self.inflight = Inflight()
        self._stopping = asyncio.Event()
        self.pump: InboxPump  # set by start_zalo_bot

    # -- inbound: updates go to the inbox, the pump handles them --

    def inbound_of(self, payload: dict[str, Any]) -> Inbound | None:
        return self._own(to_inbound(unwrap(payload)))

    def _own(self, inbound: Inbound) -> Inbound:
        """A station's own bot: the update belongs to that station (issue 21)."""
        return inbound if self.station_id is None else replace(inbound, station_id=self.station_id)

    def _arrival(self, update: dict[str, Any], inbound: Inbound) -> Arrival:
        assert inbound.message_id is not None
        key = inbound.message_id  # a station bot's keys are told apart from the shared bot's
        return Arrival(key if self.station_id is None else f"{self.station_id}:{key}",
                       inbound.chat_id, update)

    async def prepare(self, inbound: Inbound, payload: dict[str, Any]) -> Inbound:
        return inbound

    async def deliver(self, inbound: Inbound, replies: list[Outbound]) -> None:
        await self.deliver_to(inbound.chat_id, replies)

    async def _store(self, update: dict[str, Any], inbound: Inbound) -> None:
        """Commit a polled update to the inbox, retrying while the database is away."""
        arrival = self._arrival(update, inbound)
        failures = 0
        while True:
            try:
                await self.pump.receive([arrival])
                return
            except Exception as exc:  # noqa: BLE001 - only the type: messages may carry data
                failures += 1
                log.warning("zalo_bot update not stored yet (%s); retrying", type(exc).__name__)
                await self._backoff(failures)

    # -- outbound --

    async def deliver_to(self, chat_id: str, replies: list[Outbound]) -> None:
        """Send the replies in order; a chat that cannot be written to is marked and skipped."""
        async with self.send_turns.turn(chat_id):
            await self._send_all(chat_id, replies)

    async def _send_all(self, chat_id: str, replies: list[Outbound]) -> None:
        for reply in replies:
            try:
                await send_outbound(self.client, chat_id, reply)
            except Exception as exc:  # noqa: BLE001 - classified below
                error = classify_send_error(exc)
                if error.blames_chat:
                    log.info("zalo_bot chat marked unreachable: %s", error.reason)
                    async with self.bot.services.db.sessions() as session, session.begin():
                        await people.mark_chat_unreachable(session, CHANNEL, chat_id, error.reason)
                else:
                    log.warning("zalo_bot reply not sent: %s", error)
                return

    # -- polling --

    async def poll_forever(self) -> None:
        """getUpdates in a loop: one update per call, 408 means nothing new."""
        failures = 0
        while not self._stopping.is_set():
            try:
                update = await self.client.call(
                    "getUpdates",
                    {"timeout": str(POLL_TIMEOUT_SECONDS)},
                    timeout=POLL_TIMEOUT_SECONDS + POLL_HTTP_SLACK_SECONDS,
                )
                self._health(up=True)
                failures = 0
            except ZaloBotError as exc:
                if exc.code == NOTHING_NEW:
                    self._health(up=True)
                    failures = 0
                    continue
                self._health(up=exc.code != UNAUTHORIZED)
                failures += 1
                log.warning("zalo_bot getUpdates failed with error %s", exc.code)
                await self._backoff(failures)
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - network trouble: wait and poll again
                failures += 1
                log.warning("zalo_bot getUpdates failed: %s", type(exc).__name__)
                await self._backoff(failures)
                continue
            for item in update if isinstance(update, list) else [update]:  # a list: cheap to accept
                if item:
                    await self._take(item)

    def _health(self, *, up: bool) -> None:
        """The bot answers (up), or the platform refused its token (401, zalo-api.md 1.1 [I])."""
        health, name = channel_health(self.bot.services), sender_key(CHANNEL, self.station_id)
        if up:
            if health.states.get(name) != UP:
                health.up(name)
        else:
            health.down(name, TOKEN_REJECTED)

    async def _take(self, update: Any) -> None:
        try:
            unwrapped = unwrap(update)
            inbound = to_inbound(unwrapped)
        except (MalformedUpdate, TypeError, AttributeError) as exc:
            log.warning("zalo_bot update skipped: %s", type(exc).__name__)
            return
        await self._store(unwrapped, inbound)

    async def _backoff(self, failures: int) -> None:
        delay = POLL_BACKOFF_SECONDS[min(failures, len(POLL_BACKOFF_SECONDS)) - 1]
        try:
            await asyncio.wait_for(self._stopping.wait(), delay)
        except TimeoutError:
            pass

    # -- webhook --

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /zalo/bot/webhook: secret checked, update stored in the inbox, then 200."""
        given = request.headers.get(SECRET_HEADER, "")
        if not self.secret or not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("zalo_bot webhook refused: wrong or missing secret token")
            return web.Response(status=403, text="forbidden")
        if request.content_length is not None and request.content_length > MAX_WEBHOOK_BODY:
            return web.Response(status=413, text="too large")
        try:
            update = unwrap(strict_json(await request.read()))
            inbound = to_inbound(update)
        except web.HTTPException as exc:  # the body was larger than the app allows
            return web.Response(status=exc.status, text="refused")
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            log.warning("zalo_bot webhook body refused: %s", type(exc).__name__)
            return web.Response(status=400, text="bad update")
        try:
            await self.pump.receive([self._arrival(update, inbound)])
        except Exception as exc:  # noqa: BLE001 - not stored: a non-2xx lets Zalo deliver it again
            log.error("zalo_bot update not stored (%s); asking Zalo to deliver it again",
                      type(exc).__name__)
            return web.Response(status=503, text="try again")
        return web.Response(text="ok")

    async def stop(self) -> None:
        self._stopping.set()


async def start_zalo_bot(
    bot: HealthBot, app: web.Application, station_id: int | None = None
) -> Stopper:
    """Start the Zalo Bot channel; returns the coroutine function that stops it.

    With `station_id`, the station's own bot (issue 21): its updates belong to that station, its
    webhook is `/zalo/bot/webhook/<code>`, its inbox and outbox sender are `zalo_bot@<id>`.
    """
    settings = bot.services.settings
    cfg = settings.zalo_bot if station_id is None else own_zalo_bot(settings, station_id)
    if cfg is None:
        raise ConfigError(f"station {station_id} has no Zalo Bot of its own")
    key = sender_key(CHANNEL, station_id)
    path = WEBHOOK_PATH if station_id is None else (
        f"{WEBHOOK_PATH}/{settings_for(settings, station_id).station.code.lower()}")
    polling = cfg.mode != "webhook"
    if not polling and not cfg.webhook_secret:
        raise ConfigError(
            '[zalo_bot] mode = "webhook" needs webhook_secret (or ZALO_BOT_WEBHOOK_SECRET)'
        )
    client = ZaloBotClient(cfg.token, cfg.api_base_url)
    channel = ZaloBotChannel(bot, client, secret=cfg.webhook_secret, station_id=station_id)
    channel.pump = InboxPump(bot, key, ZALO_BOT, channel, turns=channel.turns,
                             worker=worker_id(settings.web.port))
    await channel.pump.resume()  # what a crash or a kill left unfinished
    channel.pump.start()
    poller: asyncio.Task[None] | None = None
    if polling:  # each poll marks it up or token_rejected: no watch needed
        try:  # polling and webhook exclude each other (zalo-api.md 1.3)
            await client.call("deleteWebhook")
        except Exception as exc:  # noqa: BLE001 - polling reports trouble itself
            log.warning("zalo_bot deleteWebhook failed: %s", type(exc).__name__)
            if isinstance(exc, ZaloBotError) and exc.code == UNAUTHORIZED:
                channel._health(up=False)
        poller = asyncio.create_task(channel.poll_forever())
    watching: asyncio.Task[None] | None = None
    if not polling:
        app.router.add_post(path, channel.webhook)
        watch = webhook_watch(channel, client, cfg, key)
        try:
            await watch.connect()
            watch.connected = True
        except ZaloBotError as exc:
            if exc.code == UNAUTHORIZED:
                channel._health(up=False)
            if station_id is None or exc.code != UNAUTHORIZED:
                await channel.pump.stop()
                await client.close()
                raise
            # A station's bot: the others run; it is set up once its token is accepted.
            log.error("%s: Zalo refused the token; retried in the background", key)
            watch.failures = 1
        watching = asyncio.create_task(watch.run())
    senders = bot.services.extras.setdefault("senders", {})
    senders[key] = ZaloBotSender(client)
    log.info("zalo_bot channel started (%s)", "polling" if polling else "webhook")

    async def stop() -> None:
        if watching is not None:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
        senders.pop(key, None)
        await channel.stop()
        if poller is not None:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)
        await channel.pump.stop()
        await channel.inflight.drain()
        await client.close()

    return stop


def webhook_watch(channel: ZaloBotChannel, client: ZaloBotClient, cfg: ZaloBot, key: str
                  ) -> ZaloBotWatch:
    """The health check of a webhook-mode bot: `connect` sets the webhook (when `webhook_url` is
    ours) and marks the bot up; a refused token marks it down until it is accepted again."""

    async def register() -> None:
        await client.call("setWebhook", {"url": cfg.webhook_url, "secret_token": cfg.webhook_secret})

    async def connect() -> None:
        if cfg.webhook_url:
            await register()
        channel._health(up=True)

    return ZaloBotWatch(key, client, channel_health(channel.bot.services), connect=connect,
                        running=lambda: True, interval=cfg.health_check_seconds,
                        webhook_url=cfg.webhook_url,
                        register_webhook=register if cfg.webhook_url else None)
