"""Web chat channel: a phone-sized chat page and a small JSON API on the project's aiohttp server.

A resident is known by a random cookie (`hb_web`), so the conversation continues across reloads.
Every text reaches the page as data and is inserted with `textContent`, never as HTML.
"""

from __future__ import annotations

import html
import json
import logging
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.engine import HealthBot
from bot.model import WEB, Inbound, Outbound
from storage import people

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
COOKIE = "hb_web"
COOKIE_MAX_AGE = 365 * 24 * 3600
MAX_BODY_BYTES = 32 * 1024
HISTORY_LIMIT = 60
CHANNEL = "web"


def _message_json(message: Outbound) -> dict[str, Any]:
    return {
        "text": message.text,
        "buttons": [[{"label": b.label, "data": b.data} for b in row] for row in message.buttons],
        "image": message.image,
    }


def _visitor(request: web.Request) -> tuple[str, bool]:
    """The visitor's id from the cookie, or a fresh one (True when new)."""
    value = request.cookies.get(COOKIE, "")
    if len(value) == 32 and value.isalnum():
        return value, False
    return secrets.token_hex(16), True


def _set_cookie(response: web.StreamResponse, visitor: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE, visitor, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax", secure=secure
    )


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class WebChat:
    """The web chat routes; `add_routes(app)` mounts them on an aiohttp application."""

    def __init__(self, bot: HealthBot) -> None:
        self.bot = bot
        self.settings = bot.services.settings

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self.page)
        app.router.add_get("/api/history", self.history)
        app.router.add_post("/api/message", self.message)
        app.router.add_get("/healthz", self.health)
        app.router.add_static("/static/", STATIC, show_index=False)

    async def page(self, request: web.Request) -> web.Response:
        template = (STATIC / "index.html").read_text(encoding="utf-8")
        station = self.settings.station
        body = (
            template.replace("{{station_name}}", html.escape(station.name))
            .replace("{{station_phone}}", html.escape(station.phone))
            .replace("{{max_chars}}", str(self.settings.web.max_text_chars))
        )
        response = web.Response(text=body, content_type="text/html", charset="utf-8")
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def history(self, request: web.Request) -> web.Response:
        """The conversation so far, so a reload shows where the resident was."""
        visitor, new = _visitor(request)
        items: list[dict[str, Any]] = []
        if not new:
            async with self.bot.services.db.sessions() as session:
                rows = await people.recent_messages(session, CHANNEL, visitor, HISTORY_LIMIT)
            for row in rows:
                if row.direction == "in":
                    if row.text and row.text != "/start":  # the page's own hidden greeting call
                        items.append({"from": "me", "text": row.text})
                    continue
                buttons = (row.payload or {}).get("buttons") or []
                items.append(
                    {
                        "from": "bot",
                        "text": row.text or "",
                        "buttons": [[{"label": b[0], "data": b[1]} for b in r] for r in buttons],
                    }
                )
        # Only the last bot message keeps live buttons; older ones are read-only.
        for item in items[:-1]:
            item.pop("buttons", None)
        response = web.json_response({"messages": items})
        _set_cookie(response, visitor, request.secure)
        return response

    async def message(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _error(413, "Tin nhắn quá dài. / Message too long.")
        try:
            raw = await request.content.read(MAX_BODY_BYTES + 1)
            if len(raw) > MAX_BODY_BYTES:
                return _error(413, "Tin nhắn quá dài. / Message too long.")
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _error(400, "Yêu cầu không hợp lệ. / Invalid request.")
        if not isinstance(body, dict):
            return _error(400, "Yêu cầu không hợp lệ. / Invalid request.")
        text, button = body.get("text", ""), body.get("button")
        if not isinstance(text, str) or (button is not None and not isinstance(button, str)):
            return _error(400, "Yêu cầu không hợp lệ. / Invalid request.")
        if button is not None and (not button.isascii() or not 0 < len(button) <= 64):
            return _error(400, "Yêu cầu không hợp lệ. / Invalid request.")
        visitor, _new = _visitor(request)
        inbound = Inbound(
            channel=CHANNEL,
            chat_id=visitor,
            user_id=visitor,
            text=text,
            button=button,
        )
        replies = await self.bot.handle(inbound, WEB)
        response = web.json_response({"messages": [_message_json(m) for m in replies]})
        _set_cookie(response, visitor, request.secure)
        return response
