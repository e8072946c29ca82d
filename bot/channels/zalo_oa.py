"""Zalo Official Account channel: a signed webhook on the shared app, replies by the OA API.

`start_zalo_oa(bot, app)` adds `POST /zalo/oa/webhook`. Each event is verified (signature over the
raw body before it is parsed, our app id, a timestamp within Zalo's retry horizon:
`zalo_oa_events`), turned into an `Inbound`, committed to the inbox (deduped on `msg_id`) and
acknowledged at once: Zalo wants its 200 within about 2 s. The inbox pump handles it right after
(`HealthBot.handle(inbound, ZALO_OA)`) and sends the replies. Echoes of the OA's own sends, receipts
and events for another OA are acknowledged and ignored. In an OA group, a bare number answering the
bot's last numbered menu there is taken as that button (groups have no buttons). A `ZaloOASender` is
registered in `services.extras["senders"]["zalo_oa"]` for the outbox dispatcher.

A station's own OA (issue 21, `[stations.zalo_oa]`): `start_zalo_oa(bot, app, station_id=2)` serves
`/zalo/oa/webhook/<code>`, checked with that OA's app id and secret key only; its events belong to
the station; its inbox, outbox sender and OAuth tokens are `zalo_oa@<id>`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web

from bot.channel_health import channel_health
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
    station_code,
)
from bot.channels.zalo_oa_tokens import OATokens
from bot.config import ConfigError
from bot.engine import HealthBot
from bot.i18n import normalize_locale
from bot.model import ZALO_OA, Inbound, Outbound
from bot.rendering import pick_numbered
from core.config import ZaloOA
from core.stations import own_zalo_oa, sender_key
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

    def __init__(self, bot: HealthBot, client: OAClient, cfg: ZaloOA | None = None,
                 station_id: int | None = None) -> None:
        self.bot = bot
        self.client = client
        self.cfg = cfg or bot.services.settings.zalo_oa
        self.station_id = station_id  # a station's own OA: its events belong to that station
        self.name = sender_key(CHANNEL, station_id)  # in logs
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
            log.warning("%s webhook refused (%s): %s", self.name, refused.status, refused.reason)
            return web.Response(status=refused.status, text="refused")
        try:
            inbound = self.inbound_of(event)
        except Exception as exc:  # noqa: BLE001 - signed but unreadable: acknowledged, logged once
            log.warning("zalo_oa event ignored: unreadable (%s)", type(exc).__name__)
            return web.Response(text="ignored")
        key = event_key(event)
        if inbound is None or key is None:
            return web.Response(text="ignored")
        try:
            if self.station_id is not None:  # message ids are told apart from another OA's
                key = f"{self.station_id}:{key}"
            await self.pump.receive([Arrival(key, inbound.chat_id, event)])
        except Exception as exc:  # noqa: BLE001 - not stored: a non-2xx lets Zalo deliver it again
            log.error("zalo_oa event not stored (%s); asking Zalo to deliver it again",
                      type(exc).__name__)
            return web.Response(status=503, text="try again")
        return web.Response(text="ok")

    # -- what the inbox pump calls --

    def inbound_of(self, payload: dict[str, Any]) -> Inbound | None:
        inbound = to_inbound(payload, self.cfg.oa_id)
        if inbound is None or self.station_id is None:
            return inbound
        return replace(inbound, station_id=self.station_id)

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
        error = classify(exc, self.name)
        if error.blames_chat:
            log.info("%s chat marked unreachable: %s", self.name, error.reason)
            await mark_unreachable(self.bot.services.db, inbound.chat_id, error.reason)
        else:
            log.warning("%s reply not sent: %s", self.name, error)
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


async def register_groups(bot: HealthBot, group_ids: list[str],
                          station_id: int | None = None) -> None:
    """The configured OA group chats exist as group chats, so broadcasts reach them (an area is
    set with /khuvuc in the group). Groups write no join event to an OA webhook [S]. A station's
    own OA's groups belong to that station (its OA is the one that can write to them)."""
    if not group_ids:
        return
    async with bot.services.db.sessions() as session, session.begin():
        for group_id in group_ids:
            chat = await people.ensure_chat(session, CHANNEL, group_id, "group", None)
            if station_id is not None:
                chat.station_id = station_id


def webhook_path(settings: Any, station_id: int | None) -> str:
    """`/zalo/oa/webhook`, or `/zalo/oa/webhook/<code in lower case>` for a station's own OA."""
    code = station_code(settings, station_id)
    return f"{WEBHOOK_PATH}/{code.lower()}" if code else WEBHOOK_PATH


async def start_zalo_oa(bot: HealthBot, app: web.Application,
                        station_id: int | None = None) -> Stopper:
    """Start the Zalo OA channel; returns the coroutine function that stops it.

    With `station_id`, the station's own OA (`[stations.zalo_oa]`, issue 21).
    """
    services = bot.services
    settings = services.settings
    cfg = settings.zalo_oa if station_id is None else own_zalo_oa(settings, station_id)
    if cfg is None:
        raise ConfigError(f"station {station_id} has no Zalo OA of its own")
    code = station_code(settings, station_id)
    if not cfg.oa_secret_key or not cfg.app_secret:
        raise ConfigError(
            "[zalo_oa] needs app_secret and oa_secret_key "
            "(or ZALO_OA_APP_SECRET and ZALO_OA_SECRET_KEY)" if not code else
            f"[stations.zalo_oa] of station {code} needs app_secret and oa_secret_key (or "
            f"ZALO_OA_APP_SECRET_{code.upper()} and ZALO_OA_SECRET_KEY_{code.upper()})"
        )
    key = sender_key(CHANNEL, station_id)
    path = webhook_path(settings, station_id)
    http = aiohttp.ClientSession()
    tokens = OATokens(services.db, cfg, services.clock, lambda: http, station_id=station_id,
                      station_code=code, health=channel_health(services))
    client = OAClient(services.db, cfg.api_base_url, tokens, http)
    channel = ZaloOAChannel(bot, client, cfg, station_id)
    channel.pump = InboxPump(bot, key, ZALO_OA, channel, turns=channel.turns,
                             worker=worker_id(settings.web.port))
    await channel.pump.resume()  # what a crash or a kill left unfinished
    channel.pump.start()
    app.router.add_post(path, channel.webhook)
    await register_groups(bot, cfg.group_ids, station_id)
    await tokens.warn_if_trial()
    senders = services.extras.setdefault("senders", {})
    senders[key] = ZaloOASender(client, settings.station.default_language, oa=key)
    log.info("%s channel started (webhook at %s)", key, path)

    async def stop() -> None:
        senders.pop(key, None)
        await channel.pump.stop()
        await channel.inflight.drain()
        await http.close()

    return stop
