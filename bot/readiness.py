"""`/readyz` (is this instance able to serve: the database answers and accepts writes) and the
web routes' answer while the database is away (503 with the usual apology, nothing logged per
request: `HealthBot` logs the condition once).

`/healthz` (in the web chat) says the process is alive; `/readyz` is what a load balancer or a
monitor should poll: it turns 503 when the database is unreachable or read-only and back to 200
when it recovers. Its body also names each channel of this worker that is down and why
(`{"ready": true, "channels_down": {"telegram@2": "token_rejected"}}`, `bot.channel_health`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channel_health import channel_health
from bot.context import Services
from bot.i18n import gettext_for
from storage.health import DatabaseUnavailable, probe

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_readiness(app: web.Application, services: Services) -> None:
    """Mount `/readyz` and the database-unavailable middleware on the shared web app."""

    async def readyz(_request: web.Request) -> web.Response:
        reason = await probe(services.db)
        # A channel that is down is named (`telegram@2: token_rejected`) but keeps the instance
        # ready: every worker has the same tokens, and one station's bot must not take the web
        # chat and every other station out of the load balancer.
        down = channel_health(services).problems()
        channels = {"channels_down": down} if down else {}
        if reason is None:
            return web.json_response({"ready": True, **channels})
        return web.json_response({"ready": False, "database": reason, **channels}, status=503)

    @web.middleware
    async def unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except DatabaseUnavailable:
            settings = services.settings
            _ = gettext_for(settings.station.default_language)
            message = _(
                "Sorry, something went wrong on our side. Please try again, or call the health "
                "station at {phone}. In an emergency call 115."
            ).format(phone=settings.station.phone)
            return web.json_response({"error": message}, status=503,
                                     headers={"Retry-After": "30"})

    app.router.add_get("/readyz", readyz)
    app.middlewares.append(unavailable)
