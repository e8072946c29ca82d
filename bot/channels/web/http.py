"""HTTP plumbing of the web chat: the visitor cookie, the language, refusals, security headers
and the JSON shapes of messages. Shared by the route modules (page, conversation, push)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.model import Outbound
from storage import web as web_store

COOKIE = "hb_web"
COOKIE_MAX_AGE = 365 * 24 * 3600
CHANNEL = "web"
CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


def message_json(message: Outbound) -> dict[str, Any]:
    """A direct reply as the page reads it."""
    return {
        "text": message.text,
        "buttons": [[{"label": b.label, "data": b.data} for b in row] for row in message.buttons],
        "image": message.image,
        "source": message.source,
    }


def stored_json(stored: web_store.StoredMessage) -> dict[str, Any]:
    """A message delivered later (through the outbox) as the page reads it."""
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


def visitor_of(request: web.Request) -> str | None:
    """The visitor's id from the cookie, or None for someone who has not been here."""
    value = request.cookies.get(COOKIE, "")
    if len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        return value
    return None


def set_cookie(response: web.StreamResponse, visitor: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        visitor,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=secure,
        path="/",
    )


def locale_of(request: web.Request, lang: str | None = None) -> str:
    if lang in ("vi", "en"):
        return lang
    accept = request.headers.get("Accept-Language", "").strip().lower()
    return "en" if accept.startswith("en") else "vi"


def normalize_default(language: str) -> str:
    return "en" if language == "en" else "vi"


def refusal(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # 404, 405…: the same headers on refusals
        harden(exc)
        raise
    harden(response)
    return response


def harden(response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"


async def plain_server_header(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = "healthbot"  # no library or Python version for scanners
