"""Zalo Official Account channel: a signed webhook on the shared app, replies by the OA API.

`start_zalo_oa(bot, app)` adds `POST /zalo/oa/webhook`. Each event is verified (signature over the
raw body before it is parsed, our app id, a timestamp within Zalo's retry horizon:
`zalo_oa_events`), turned into an `Inbound`, committed to the inbox (deduped on `msg_id`) and
acknowledged at once: Zalo wants its 200 within about 2 s. The inbox pump handles it right after
(`HealthBot.handle(inbound, ZALO_OA)`) and sends the replies. Echoes of the OA's own sends, receipts
and events for another OA are acknowledged and ignored. In an OA group, a bare number answering the
bot's last numbered menu there is taken as that button (groups have no buttons). A `ZaloOASender` is
registered in `services.extras["senders"]["zalo_oa"]` for the outbox dispatcher.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.inbox_pump import InboxPump, worker_id
from bot.channels.zalo_common import ChatTurns, Inflight
from bot.channels.zalo_oa_events import (
    SIGNATURE_HEADER,
    RefusedEvent,
    event_key,
    to_inbound,
    verified_event,
)
from bot.channels.zalo_oa_send import (
    CHANNEL,
    RATE_LIMITED,
    OAApiError,
    OAClient,
    ZaloOASender,
    classify,
    mark_unreachable,
    send_outbound,
)
from bot.channels.zalo_oa_tokens import OATokens
from bot.config import ConfigError
from bot.engine import HealthBot
from bot.i18n import normalize_locale
from bot.model import ZALO_OA, Inbound, Outbound
from bot.rendering import pick_numbered
from storage import people
from storage.inbox import Arrival
from storage.models import Person

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/zalo/oa/webhook"
MAX_WEBHOOK_BODY = 256 * 1024
RATE_LIMIT_REPLY_DELAYS = (1.0, 3.0)  # a direct reply waits this long for a -32 to pass, then drops

Stopper = Callable[[], Awaitable[None]]


class ZaloOAChannel:
    """Glue between the OA webhook, the OA API and the conversation engine."""

    def __init__(self, bot: HealthBot, client: OAClient) -> None:
        self.bot = bot
        self.client = client
        self.cfg = bot.services.settings.zalo_oa
        self.turns = ChatTurns(bot.services.db)
        self.send_turns = ChatTurns(bot.services.db)
        self.inflight = Inflight()
        self.pump: InboxPump  # set by start_zalo_oa

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /zalo/oa/webhook: verified, stored in the inbox, answered 200 at once."""
        if request.content_length is not None and request.content_length > MAX_WEBHOOK_BODY:
            return web.Response(status=413, text="too large")
        try:
            raw = await request.read()
        except web.HTTPException as exc:  # larger than the app allows
            return web.Response(status=exc.status, text="refused")
        if len(raw) > MAX_WEBHOOK_BODY:
            return web.Response(status=413, text="too large")
        try:
            event = verified_event(
                raw,
                request.headers.get(SIGNATURE_HEADER, ""),
                app_id=self.cfg.app_id,
                oa_secret_key=self.cfg.oa_secret_key,
                now=self.bot.services.clock(),
            )
        except RefusedEvent as refused:
            log.warning("zalo_oa webhook refused (%s): %s", refused.status, refused.reason)
            return web.Response(status=refused.status, text="refused")
        try:
            inbound = to_inbound(event, self.cfg.oa_id)
        except Exception as exc:  # noqa: BLE001 - signed but unreadable: acknowledged, logged once
            log.warning("zalo_oa event ignored: unreadable (%s)", type(exc).__name__)
            return web.Response(text="ignored")
        key = event_key(event)
        if inbound is None or key is None:
            return web.Response(text="ignored")
        try:
            await self.pump.receive([Arrival(key, inbound.chat_id, event)])
        except Exception as exc:  # noqa: BLE001 - not stored: a non-2xx lets Zalo deliver it again
            log.error("zalo_oa event not stored (%s); asking Zalo to deliver it again",
                      type(exc).__name__)
            return web.Response(status=503, text="try again")
        return web.Response(text="ok")

    # -- what the inbox pump calls --

    def inbound_of(self, payload: dict[str, Any]) -> Inbound | None:
        return to_inbound(payload, self.cfg.oa_id)

    async def prepare(self, inbound: Inbound, payload: dict[str, Any]) -> Inbound:
        """A number typed in an OA group answers the bot's last numbered menu there."""
        if inbound.chat_kind != "group" or inbound.addressed or inbound.button:
            return inbound
        candidate = (inbound.text or "").strip().rstrip(".")
        if not candidate.isdigit() or len(candidate) > 2:
            return inbound
        async with self.bot.services.db.sessions() as session:
            menu = await people.latest_menu(session, CHANNEL, inbound.chat_id)
        choice = pick_numbered(candidate, menu)
        if choice is None:
            return inbound
        return replace(inbound, button=choice, text="", addressed=True)

    async def deliver(self, inbound: Inbound, replies: list[Outbound]) -> None:
        async with self.send_turns.turn(inbound.chat_id):
            locale = await self._locale(inbound)
            for reply in replies:
                if not await self._send_reply(inbound, reply, locale):
                    return

    async def _send_reply(self, inbound: Inbound, reply: Outbound, locale: str) -> bool:
        """One reply; False when the rest should not be sent."""
        for delay in (*RATE_LIMIT_REPLY_DELAYS, None):
            try:
                await send_outbound(self.client, inbound.chat_id, reply,
                                    chat_kind=inbound.chat_kind, locale=locale)
                return True
            except OAApiError as exc:
                if exc.code == RATE_LIMITED and delay is not None:
                    await asyncio.sleep(delay)
                    continue
                return await self._failed(inbound, exc)
            except Exception as exc:  # noqa: BLE001 - classified and logged
                return await self._failed(inbound, exc)
        return False

    async def _failed(self, inbound: Inbound, exc: Exception) -> bool:
        error = classify(exc)
        if error.blames_chat:
            log.info("zalo_oa chat marked unreachable: %s", error.reason)
            await mark_unreachable(self.bot.services.db, inbound.chat_id, error.reason)
        else:
            log.warning("zalo_oa reply not sent: %s", error)
        return False

    async def _locale(self, inbound: Inbound) -> str:
        """The resident's language, for the few words this adapter adds (numbered lists)."""
        default = self.bot.services.settings.station.default_language
        if inbound.chat_kind == "group":
            return default
        async with self.bot.services.db.sessions() as session:
            identity = await people.find_identity(session, CHANNEL, inbound.user_id)
            person = await session.get(Person, identity.person_id) if identity else None
        return normalize_locale(person.locale if person and person.locale else default)


async def register_groups(bot: HealthBot, group_ids: list[str]) -> None:
    """The configured OA group chats exist as group chats, so broadcasts reach them (an area is
    set with /khuvuc in the group). Groups write no join event to an OA webhook [S]."""
    if not group_ids:
        return
    async with bot.services.db.sessions() as session, session.begin():
        for group_id in group_ids:
            await people.ensure_chat(session, CHANNEL, group_id, "group", None)


async def start_zalo_oa(bot: HealthBot, app: web.Application) -> Stopper:
    """Start the Zalo OA channel; returns the coroutine function that stops it."""
    services = bot.services
    cfg = services.settings.zalo_oa
    if not cfg.oa_secret_key or not cfg.app_secret:
        raise ConfigError(
            "[zalo_oa] needs app_secret and oa_secret_key "
            "(or ZALO_OA_APP_SECRET and ZALO_OA_SECRET_KEY)"
        )
    http = aiohttp.ClientSession()
    tokens = OATokens(services.db, cfg, services.clock, lambda: http)
    client = OAClient(services.db, cfg.api_base_url, tokens, http)
    channel = ZaloOAChannel(bot, client)
    channel.pump = InboxPump(bot, CHANNEL, ZALO_OA, channel, turns=channel.turns,
                             worker=worker_id(services.settings.web.port))
    await channel.pump.resume()  # what a crash or a kill left unfinished
    channel.pump.start()
    app.router.add_post(WEBHOOK_PATH, channel.webhook)
    await register_groups(bot, cfg.group_ids)
    await tokens.warn_if_trial()
    senders = services.extras.setdefault("senders", {})
    senders[CHANNEL] = ZaloOASender(client, services.settings.station.default_language)
    log.info("zalo_oa channel started (webhook at %s)", WEBHOOK_PATH)

    async def stop() -> None:
        senders.pop(CHANNEL, None)
        await channel.pump.stop()
        await channel.inflight.drain()
        await http.close()

    return stop
