"""Web chat channel: a phone-first chat page, its JSON API, live delivery and Web Push.

A resident is known by a random cookie (`hb_web`), so the conversation continues across reloads.
Direct replies come back in the answer to `POST /api/message`; everything else (a staff answer,
a rating request, a reminder, a broadcast) comes through the outbox and `WebSender`, is stored in
`web_messages`, and reaches the open page over Server-Sent Events (`GET /api/events`, resumed
after a reconnect from the last event id) and, with the resident's consent, as a Web Push.
Every text reaches the page as data and is inserted with `textContent`, never as HTML.
A visitor gets database rows only when they send something; reading the page writes nothing.

`WebChat` is put together from its parts: `page` (the HTML, manifest, service worker),
`conversation` (history and the event stream), `push_routes` (Web Push subscriptions) and
`http` (cookie, language, refusals, security headers); this module keeps sending a message.
"""

from __future__ import annotations

import secrets

from aiohttp import web

from bot.channels.web import guard
from bot.channels.web.conversation import (
    HISTORY_LIMIT,
    MAX_STREAMS,
    MAX_STREAMS_PER_VISITOR,
    STREAM_MAX_SECONDS,
    STREAM_POLL_SECONDS,
    STREAM_RETRY_MS,
    ConversationRoutes,
    resume_point,
)
from bot.channels.web.http import (
    CHANNEL,
    COOKIE,
    COOKIE_MAX_AGE,
    CSP,
    harden,
    locale_of,
    message_json,
    normalize_default,
    plain_server_header,
    refusal,
    security_headers,
    set_cookie,
    visitor_of,
)
from bot.channels.web.live import LiveHub
from bot.channels.web.page import CHROME_KEYS, STATIC, PageRoutes, chrome
from bot.channels.web.push import WebPush
from bot.channels.web.push_routes import SUBSCRIBE_PER_MINUTE, PushRoutes, push_target
from bot.channels.web.sender import WebSender
from bot.channels.web.writes import WriteGate
from bot.engine import HealthBot
from bot.i18n import gettext_for
from bot.model import WEB, Inbound
from content.red_flags import detect

__all__ = [
    "CHANNEL", "CHROME_KEYS", "COOKIE", "COOKIE_MAX_AGE", "CSP", "HISTORY_LIMIT", "MAX_BODY_BYTES",
    "MAX_STREAMS", "MAX_STREAMS_PER_VISITOR", "STATIC", "STREAM_MAX_SECONDS",
    "STREAM_POLL_SECONDS", "STREAM_RETRY_MS", "SUBSCRIBE_PER_MINUTE", "WebChat", "chrome",
    "harden", "normalize_default", "push_target", "resume_point", "security_headers",
]

MAX_BODY_BYTES = guard.MAX_BODY_BYTES


class WebChat(PageRoutes, ConversationRoutes, PushRoutes):
    """The web chat routes; `add_routes(app)` mounts them on an aiohttp application."""

    def __init__(self, bot: HealthBot) -> None:
        self.bot = bot
        services = bot.services
        self.settings = services.settings
        cfg = self.settings.web
        self.hub = LiveHub()
        self.gate = WriteGate(services.db)
        self.trusted = guard.trusted_networks(cfg.trusted_proxies)
        self.limits = guard.RateLimits(cfg.messages_per_minute, cfg.address_messages_per_minute)
        self.subscribe_limits = guard.TokenBuckets(SUBSCRIBE_PER_MINUTE, SUBSCRIBE_PER_MINUTE)
        station = self.settings.station
        self.push = WebPush(
            services.db, services.clock, cfg.push_contact or "mailto:healthbot@localhost"
        )
        title = gettext_for(normalize_default(station.default_language))("{station}: new message")
        self.sender = WebSender(
            services.db,
            services.clock,
            self.hub,
            self.push,
            self.gate,
            title.format(station=station.name),
        )
        # The outbox dispatcher delivers to web visitors through this sender.
        services.extras.setdefault("senders", {})[CHANNEL] = self.sender
        services.extras["web_chat"] = self
        self._closing = False
        # Push services are https; a test's local fake push service is added to this list.
        self.push_endpoint_prefixes: tuple[str, ...] = ("https://",)

    def add_routes(self, app: web.Application) -> None:
        app.middlewares.append(security_headers)
        app.on_response_prepare.append(plain_server_header)
        app.on_shutdown.append(self._close_streams)
        app.router.add_get("/", self.page)
        app.router.add_get("/manifest.webmanifest", self.manifest)
        app.router.add_get("/sw.js", self.service_worker)
        app.router.add_get("/api/history", self.history)
        app.router.add_get("/api/events", self.events)
        app.router.add_post("/api/message", self.message)
        app.router.add_get("/api/push/key", self.push_key)
        app.router.add_post("/api/push/subscribe", self.push_subscribe)
        app.router.add_post("/api/push/unsubscribe", self.push_unsubscribe)
        app.router.add_get("/healthz", self.health)
        app.router.add_static("/static/", STATIC, show_index=False)

    # -- sending --

    async def message(self, request: web.Request) -> web.Response:
        client = guard.ClientInfo.of(request, self.trusted)
        visitor = visitor_of(request)
        wait = self.limits.check(visitor, client.address)
        if wait:
            return self._too_fast(request, wait)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return refusal(413, gettext_for(locale_of(request))("The message is too large."))
        raw = await request.content.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            return refusal(413, gettext_for(locale_of(request))("The message is too large."))
        try:
            text, button, lang = guard.parse_message(raw, self.settings.web.max_text_chars)
        except guard.BadRequest as bad:
            if bad.key != "too_long" or detect(bad.text) is None:
                return self._bad_request(request, bad)
            # A long message (a pasted story, voice typing) that tells of danger is answered,
            # not refused: the red-flag layer reads it first (it reads 8,000 characters).
            text, button, lang = bad.text, None, None
        if visitor is None:
            visitor = secrets.token_hex(16)
            if self.limits.visitors.take(visitor):  # count the first message as well
                return self._too_fast(request, 1)
        inbound = Inbound(
            channel=CHANNEL,
            chat_id=visitor,
            user_id=visitor,
            text=text,
            button=button,
            locale_hint=lang,
        )
        async with self.gate.turn(visitor), self.gate.write():
            replies = await self.bot.handle(inbound, WEB)
        response = web.json_response({"messages": [message_json(m) for m in replies]})
        set_cookie(response, visitor, client.secure)
        return response

    def _too_fast(self, request: web.Request, seconds: int) -> web.Response:
        _ = gettext_for(locale_of(request))
        text = _("You are sending messages too fast. Please wait {seconds} seconds and try again.")
        return refusal(429, text.format(seconds=seconds), **{"Retry-After": str(seconds)})

    def _bad_request(self, request: web.Request, bad: guard.BadRequest) -> web.Response:
        _ = gettext_for(locale_of(request))
        if bad.key == "too_long":
            text = _(
                "Your message is too long ({count} characters). Please send at most {limit} "
                "characters. In an emergency, call 115 now."
            ).format(**bad.fields)
        elif bad.key == "empty":
            text = _("Please type a message.")
        else:
            text = _("Invalid request.")
        return refusal(400, text)
