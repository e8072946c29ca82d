"""Web Push subscriptions of the web chat: the VAPID public key, subscribing (only a resident
who has written) and unsubscribing. The pushes themselves are sent by `push.WebPush`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.channels.web import guard
from bot.channels.web.http import CHANNEL, locale_of, refusal, visitor_of
from bot.channels.web.push import WebPush
from bot.channels.web.writes import WriteGate
from bot.engine import HealthBot
from bot.i18n import gettext_for
from storage import people
from storage import web as web_store

SUBSCRIBE_PER_MINUTE = 6
MAX_PUSH_BODY_BYTES = 8 * 1024


class PushRoutes:
    """`/api/push/key`, `/api/push/subscribe` and `/api/push/unsubscribe` of `WebChat`."""

    bot: HealthBot
    push: WebPush
    gate: WriteGate
    trusted: Any
    subscribe_limits: guard.TokenBuckets
    push_endpoint_prefixes: tuple[str, ...]

    if TYPE_CHECKING:
        def _too_fast(self, request: web.Request, seconds: int) -> web.Response: ...  # WebChat's

    async def push_key(self, request: web.Request) -> web.Response:
        return web.json_response({"publicKey": await self.push.public_key()})

    async def push_subscribe(self, request: web.Request) -> web.Response:
        visitor = visitor_of(request)
        _ = gettext_for(locale_of(request))
        client = guard.ClientInfo.of(request, self.trusted)
        if self.subscribe_limits.take(client.address):
            return self._too_fast(request, 10)
        if visitor is None:
            return refusal(403, _("Please send a message first."))
        target = push_target(await request.content.read(MAX_PUSH_BODY_BYTES + 1))
        if target is None or not target.endpoint.startswith(self.push_endpoint_prefixes):
            return refusal(400, _("Invalid request."))
        async with self.gate.turn(visitor), self.gate.write():
            async with self.bot.services.db.sessions() as session, session.begin():
                known = await people.find_chat(session, CHANNEL, visitor)
                if known is None:  # only residents who have written get a row of any kind
                    return refusal(403, _("Please send a message first."))
                await web_store.save_subscription(
                    session, visitor, target, self.bot.services.clock()
                )
        return web.json_response({"ok": True})

    async def push_unsubscribe(self, request: web.Request) -> web.Response:
        visitor = visitor_of(request)
        _ = gettext_for(locale_of(request))
        if visitor is None:
            return refusal(403, _("Please send a message first."))
        try:
            body = json.loads((await request.content.read(MAX_PUSH_BODY_BYTES + 1)).decode("utf-8"))
            endpoint = body["endpoint"]
            assert isinstance(endpoint, str) and len(endpoint) <= 1024
            endpoint.encode("utf-8")
        except Exception:  # noqa: BLE001 - any malformed body is the same refusal
            return refusal(400, _("Invalid request."))
        async with self.gate.turn(visitor), self.gate.write():
            async with self.bot.services.db.sessions() as session, session.begin():
                await web_store.drop_subscription(session, endpoint, visitor)
        return web.json_response({"ok": True})


def push_target(raw: bytes) -> web_store.PushTarget | None:
    """A browser's PushSubscription.toJSON(), checked: an https (or local) endpoint and its keys."""
    if len(raw) > MAX_PUSH_BODY_BYTES:
        return None
    try:
        body = json.loads(raw.decode("utf-8"))
        endpoint, keys = body["endpoint"], body["keys"]
        p256dh, auth = keys["p256dh"], keys["auth"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        return None
    fields = (endpoint, p256dh, auth)
    if not all(isinstance(f, str) and f.isascii() and f.isprintable() for f in fields):
        return None
    if len(endpoint) > 1024 or not 40 <= len(p256dh) <= 256 or not 8 <= len(auth) <= 64:
        return None
    return web_store.PushTarget(endpoint, p256dh, auth)
