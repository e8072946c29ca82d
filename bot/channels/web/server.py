"""Web chat channel: a phone-first chat page, its JSON API, live delivery and Web Push.

A resident is known by a random cookie (`hb_web`), so the conversation continues across reloads.
Direct replies come back in the answer to `POST /api/message`; everything else (a staff answer,
a rating request, a reminder, a broadcast) comes through the outbox and `WebSender`, is stored in
`web_messages`, and reaches the open page over Server-Sent Events (`GET /api/events`, resumed
after a reconnect from the last event id) and, with the resident's consent, as a Web Push.
Every text reaches the page as data and is inserted with `textContent`, never as HTML.
A visitor gets database rows only when they send something; reading the page writes nothing.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.channels.web import guard
from bot.channels.web.live import LiveHub
from bot.channels.web.push import WebPush
from bot.channels.web.sender import WebSender
from bot.channels.web.writes import WriteGate
from bot.engine import HealthBot
from bot.i18n import gettext_for
from bot.model import WEB, Inbound, Outbound
from storage import people
from storage import web as web_store

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
COOKIE = "hb_web"
COOKIE_MAX_AGE = 365 * 24 * 3600
MAX_BODY_BYTES = guard.MAX_BODY_BYTES
HISTORY_LIMIT = 60
CHANNEL = "web"
STREAM_POLL_SECONDS = 15.0  # an open stream re-reads the database this often (other workers)
STREAM_MAX_SECONDS = 600.0  # then it ends; the browser reconnects from its last event id
STREAM_RETRY_MS = 2000  # how soon EventSource reconnects
MAX_STREAMS_PER_VISITOR = 6
MAX_STREAMS = 5000
SUBSCRIBE_PER_MINUTE = 6
CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
# Page chrome, translated through the same catalogs as the bot (bot/locale/*/web.po).
CHROME_KEYS = {
    "title": "Health questions and answers",
    "emergency": "Emergency",
    "call_station": "Call the station",
    "placeholder": "Type your question…",
    "send": "Send",
    "menu": "Menu",
    "message": "Message",
    "log": "Conversation",
    "main_menu": "Main menu",
    "my_data": "My data (see or delete)",
    "text_size": "Text size",
    "smaller": "Smaller text",
    "larger": "Larger text",
    "notify": "Turn on notifications",
    "notify_on": "Notifications are on.",
    "notify_unsupported": "This browser cannot show notifications.",
    "notify_blocked": "Notifications are blocked in this browser's settings.",
    "close": "Close",
    "source": "Source",
    "reconnecting": "Reconnecting…",
    "offline": "Cannot reach the server. Please try again later, or call the health station: "
    "{phone}. Emergency: 115.",
    "error": "Something went wrong. Please try again.",
}


def chrome(locale: str, phone: str) -> dict[str, str]:
    _ = gettext_for(locale)
    return {key: _(msgid).replace("{phone}", phone) for key, msgid in CHROME_KEYS.items()}


def _message_json(message: Outbound) -> dict[str, Any]:
    return {
        "text": message.text,
        "buttons": [[{"label": b.label, "data": b.data} for b in row] for row in message.buttons],
        "image": message.image,
        "source": message.source,
    }


def _stored_json(stored: web_store.StoredMessage) -> dict[str, Any]:
    payload = stored.payload
    return {
        "id": stored.id,
        "from": "bot",
        "text": payload.get("text") or "",
        "buttons": [
            [{"label": b[0], "data": b[1]} for b in row] for row in payload.get("buttons") or []
        ],
        "source": payload.get("source"),
    }


def _visitor(request: web.Request) -> str | None:
    """The visitor's id from the cookie, or None for someone who has not been here."""
    value = request.cookies.get(COOKIE, "")
    if len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        return value
    return None


def _set_cookie(response: web.StreamResponse, visitor: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        visitor,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=secure,
        path="/",
    )


def _locale(request: web.Request, lang: str | None = None) -> str:
    if lang in ("vi", "en"):
        return lang
    accept = request.headers.get("Accept-Language", "").strip().lower()
    return "en" if accept.startswith("en") else "vi"


def _refusal(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # 404, 405…: the same headers on refusals
        _harden(exc)
        raise
    _harden(response)
    return response


def _harden(response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"


async def _plain_server_header(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = "healthbot"  # no library or Python version for scanners


class WebChat:
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
        app.on_response_prepare.append(_plain_server_header)
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

    # -- the page --

    async def page(self, request: web.Request) -> web.Response:
        template = (STATIC / "index.html").read_text(encoding="utf-8")
        station = self.settings.station
        locale = _locale(request)
        texts = chrome(locale, station.phone)
        both = {lang: chrome(lang, station.phone) for lang in ("vi", "en")}
        body = template
        for key, value in texts.items():
            body = body.replace("{{" + key + "}}", html.escape(value))
        body = (
            body.replace("{{lang}}", locale)
            .replace("{{station_name}}", html.escape(station.name))
            .replace("{{station_phone}}", html.escape(station.phone))
            .replace(
                "{{tel_station}}",
                html.escape("".join(c for c in station.phone if c in "+0123456789")),
            )
            .replace("{{max_chars}}", str(self.settings.web.max_text_chars))
            # Raw text inside <script type="application/json">: only "<" could end it early.
            .replace(
                "{{chrome_json}}", json.dumps(both, ensure_ascii=False).replace("<", "\\u003c")
            )
        )
        response = web.Response(text=body, content_type="text/html", charset="utf-8")
        response.headers["Cache-Control"] = "no-cache"
        return response

    async def manifest(self, request: web.Request) -> web.Response:
        station = self.settings.station
        data = {
            "name": station.name,
            "short_name": station.name[:24],
            "lang": "vi",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "background_color": "#f4f6f4",
            "theme_color": "#0b6e4f",
            "icons": [
                {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png"},
                {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png"},
                {
                    "src": "/static/icon-512.png",
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
        }
        return web.json_response(data, content_type="application/manifest+json")

    async def service_worker(self, request: web.Request) -> web.Response:
        # Served from the root so its scope is the whole page.
        response = web.Response(
            text=(STATIC / "sw.js").read_text(encoding="utf-8"),
            content_type="text/javascript",
            charset="utf-8",
        )
        response.headers["Cache-Control"] = "no-cache"
        return response

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    # -- reading the conversation --

    async def history(self, request: web.Request) -> web.Response:
        """The conversation so far and the resume point for the live stream."""
        visitor = _visitor(request)
        client = guard.ClientInfo.of(request, self.trusted)
        items: list[tuple[tuple[Any, int, int], dict[str, Any]]] = []
        cursor = 0
        if visitor is not None:
            async with self.bot.services.db.sessions() as session:
                rows = await people.recent_messages(session, CHANNEL, visitor, HISTORY_LIMIT)
                pushed = await web_store.recent_web_messages(session, visitor, HISTORY_LIMIT)
                cursor = await web_store.last_message_id(session, visitor)
            for row in rows:
                key = (row.created_at, 0, row.id)
                if row.direction == "in":
                    # the page's own hidden greeting call (with a station's link: "/start XUANLA")
                    if row.text and row.text.split(" ", 1)[0] != "/start":
                        items.append((key, {"from": "me", "text": row.text}))
                    continue
                buttons = (row.payload or {}).get("buttons") or []
                items.append(
                    (
                        key,
                        {
                            "from": "bot",
                            "text": row.text or "",
                            "buttons": [
                                [{"label": b[0], "data": b[1]} for b in r] for r in buttons
                            ],
                        },
                    )
                )
            for stored in pushed:
                items.append(((stored.created_at, 1, stored.id), _stored_json(stored)))
        items.sort(key=lambda item: item[0])
        messages = [item for _key, item in items][-HISTORY_LIMIT:]
        # Only the last bot message keeps live buttons; older ones are read-only.
        for item in messages[:-1]:
            item.pop("buttons", None)
        response = web.json_response({"messages": messages, "cursor": cursor})
        response.headers["Cache-Control"] = "no-store"
        if visitor is None:
            # A cookie costs nothing: the database learns of this visitor only when they send.
            visitor = secrets.token_hex(16)
        _set_cookie(response, visitor, client.secure)
        return response

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: every stored message after the resume point, then live ones."""
        visitor = _visitor(request)
        if visitor is None or self._closing:
            return web.Response(status=204)  # EventSource stops reconnecting on 204
        after = _resume_point(request)
        if after is None:
            return _refusal(400, gettext_for(_locale(request))("Invalid request."))
        if (
            self.hub.open_pages(visitor) >= MAX_STREAMS_PER_VISITOR
            or self.hub.streams >= MAX_STREAMS
        ):
            return _refusal(
                429,
                gettext_for(_locale(request))("Too many open pages. Please close some and reload."),
                **{"Retry-After": "30"},
            )
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # nginx: pass each event through at once
            }
        )
        _harden(response)
        wake = self.hub.listen(visitor)
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + STREAM_MAX_SECONDS
        try:
            await response.prepare(request)
            await response.write(f"retry: {STREAM_RETRY_MS}\n\n".encode())
            while not self._closing and loop.time() < ends_at:
                wake.clear()
                async with self.bot.services.db.sessions() as session:
                    fresh = await web_store.messages_after(session, visitor, after)
                for stored in fresh:
                    data = json.dumps(_stored_json(stored), ensure_ascii=False)
                    await response.write(
                        f"id: {stored.id}\nevent: message\ndata: {data}\n\n".encode()
                    )
                    after = stored.id
                if fresh:
                    continue  # there may be more than one batch
                try:
                    await asyncio.wait_for(wake.wait(), STREAM_POLL_SECONDS)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
        except ConnectionResetError:
            pass  # the page went away; it resumes from its last event id
        finally:
            self.hub.forget(visitor, wake)
        return response

    async def _close_streams(self, _app: web.Application) -> None:
        self._closing = True
        self.hub.notify_all()
        await self.sender.drain()

    # -- sending --

    async def message(self, request: web.Request) -> web.Response:
        client = guard.ClientInfo.of(request, self.trusted)
        visitor = _visitor(request)
        wait = self.limits.check(visitor, client.address)
        if wait:
            return self._too_fast(request, wait)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _refusal(413, gettext_for(_locale(request))("The message is too large."))
        raw = await request.content.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            return _refusal(413, gettext_for(_locale(request))("The message is too large."))
        try:
            text, button, lang = guard.parse_message(raw, self.settings.web.max_text_chars)
        except guard.BadRequest as bad:
            return self._bad_request(request, bad)
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
        response = web.json_response({"messages": [_message_json(m) for m in replies]})
        _set_cookie(response, visitor, client.secure)
        return response

    def _too_fast(self, request: web.Request, seconds: int) -> web.Response:
        _ = gettext_for(_locale(request))
        text = _("You are sending messages too fast. Please wait {seconds} seconds and try again.")
        return _refusal(429, text.format(seconds=seconds), **{"Retry-After": str(seconds)})

    def _bad_request(self, request: web.Request, bad: guard.BadRequest) -> web.Response:
        _ = gettext_for(_locale(request))
        if bad.key == "too_long":
            text = _(
                "Your message is too long ({count} characters). Please send at most {limit} "
                "characters."
            ).format(**bad.fields)
        elif bad.key == "empty":
            text = _("Please type a message.")
        else:
            text = _("Invalid request.")
        return _refusal(400, text)

    # -- Web Push --

    async def push_key(self, request: web.Request) -> web.Response:
        return web.json_response({"publicKey": await self.push.public_key()})

    async def push_subscribe(self, request: web.Request) -> web.Response:
        visitor = _visitor(request)
        _ = gettext_for(_locale(request))
        client = guard.ClientInfo.of(request, self.trusted)
        if self.subscribe_limits.take(client.address):
            return self._too_fast(request, 10)
        if visitor is None:
            return _refusal(403, _("Please send a message first."))
        target = _push_target(await request.content.read(8 * 1024 + 1))
        if target is None or not target.endpoint.startswith(self.push_endpoint_prefixes):
            return _refusal(400, _("Invalid request."))
        async with self.gate.turn(visitor), self.gate.write():
            async with self.bot.services.db.sessions() as session, session.begin():
                known = await people.find_chat(session, CHANNEL, visitor)
                if known is None:  # only residents who have written get a row of any kind
                    return _refusal(403, _("Please send a message first."))
                await web_store.save_subscription(
                    session, visitor, target, self.bot.services.clock()
                )
        return web.json_response({"ok": True})

    async def push_unsubscribe(self, request: web.Request) -> web.Response:
        visitor = _visitor(request)
        _ = gettext_for(_locale(request))
        if visitor is None:
            return _refusal(403, _("Please send a message first."))
        try:
            body = json.loads((await request.content.read(8 * 1024 + 1)).decode("utf-8"))
            endpoint = body["endpoint"]
            assert isinstance(endpoint, str) and len(endpoint) <= 1024
            endpoint.encode("utf-8")
        except Exception:  # noqa: BLE001 - any malformed body is the same refusal
            return _refusal(400, _("Invalid request."))
        async with self.gate.turn(visitor), self.gate.write():
            async with self.bot.services.db.sessions() as session, session.begin():
                await web_store.drop_subscription(session, endpoint, visitor)
        return web.json_response({"ok": True})


def normalize_default(language: str) -> str:
    return "en" if language == "en" else "vi"


def _resume_point(request: web.Request) -> int | None:
    """The last event id the page has: the Last-Event-ID header (a reconnect) or ?after=."""
    best = 0
    for raw in (request.headers.get("Last-Event-ID", ""), request.query.get("after", "")):
        raw = raw.strip()
        if not raw:
            continue
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # "¹".isdigit() is True
            return None
        best = max(best, int(raw))
    return best


def _push_target(raw: bytes) -> web_store.PushTarget | None:
    """A browser's PushSubscription.toJSON(), checked: an https (or local) endpoint and its keys."""
    if len(raw) > 8 * 1024:
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
