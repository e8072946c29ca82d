"""The web chat page itself: the HTML with its translated chrome, the PWA manifest, the service
worker and the health check. Nothing here reads or writes the conversation."""

from __future__ import annotations

import html
import json
from pathlib import Path

from aiohttp import web

from bot.channels.web.http import locale_of
from bot.config import Settings
from bot.i18n import gettext_for

STATIC = Path(__file__).parent / "static"
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


class PageRoutes:
    """`/`, `/manifest.webmanifest`, `/sw.js` and `/healthz` of `WebChat`."""

    settings: Settings

    async def page(self, request: web.Request) -> web.Response:
        template = (STATIC / "index.html").read_text(encoding="utf-8")
        station = self.settings.station
        locale = locale_of(request)
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
