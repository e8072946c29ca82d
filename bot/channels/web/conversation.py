"""Reading the web conversation: the history a page opens with, and the live stream of messages
delivered later (Server-Sent Events, resumed after a reconnect from the last event id)."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from aiohttp import web

from bot.channels.web import guard
from bot.channels.web.http import (
    CHANNEL,
    harden,
    locale_of,
    refusal,
    set_cookie,
    stored_json,
    visitor_of,
)
from bot.channels.web.live import LiveHub
from bot.channels.web.sender import WebSender
from bot.engine import HealthBot
from bot.i18n import gettext_for
from storage import people
from storage import web as web_store

HISTORY_LIMIT = 60
STREAM_POLL_SECONDS = 15.0  # an open stream re-reads the database this often (other workers)
STREAM_MAX_SECONDS = 600.0  # then it ends; the browser reconnects from its last event id
STREAM_RETRY_MS = 2000  # how soon EventSource reconnects
MAX_STREAMS_PER_VISITOR = 6
MAX_STREAMS = 5000


class ConversationRoutes:
    """`/api/history` and `/api/events` of `WebChat`, and closing the streams at shutdown."""

    bot: HealthBot
    hub: LiveHub
    sender: WebSender
    trusted: Any
    _closing: bool

    async def history(self, request: web.Request) -> web.Response:
        """The conversation so far and the resume point for the live stream."""
        visitor = visitor_of(request)
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
                items.append(((stored.created_at, 1, stored.id), stored_json(stored)))
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
        set_cookie(response, visitor, client.secure)
        return response

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: every stored message after the resume point, then live ones."""
        visitor = visitor_of(request)
        if visitor is None or self._closing:
            return web.Response(status=204)  # EventSource stops reconnecting on 204
        after = resume_point(request)
        if after is None:
            return refusal(400, gettext_for(locale_of(request))("Invalid request."))
        if (
            self.hub.open_pages(visitor) >= MAX_STREAMS_PER_VISITOR
            or self.hub.streams >= MAX_STREAMS
        ):
            return refusal(
                429,
                gettext_for(locale_of(request))("Too many open pages. Please close some and reload."),
                **{"Retry-After": "30"},
            )
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # nginx: pass each event through at once
            }
        )
        harden(response)
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
                    data = json.dumps(stored_json(stored), ensure_ascii=False)
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


def resume_point(request: web.Request) -> int | None:
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
