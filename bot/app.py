"""Wiring: build the services, the conversation engine and the channels, and run them together.

`build_services(settings)` and `build_bot(services)` are what tests use too; `run(settings)` is
`healthbot run`: migrate the database, serve the web chat, start every channel that has credentials,
and stop cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.channel_health import FAILED_TO_START, UP, channel_health
from bot.channels.web.server import WebChat
from bot.config import ConfigError, Settings
from bot.context import Services
from bot.conversations import main_router
from bot.conversations.report_files import REPORT_DIR
from bot.delivery import OutboxDeliverer
from bot.engine import HealthBot
from bot.log_privacy import PrivateAccessLogger, access_logger, register_settings
from bot.maintenance import start_maintenance
from bot.metrics import MeteredHealthBot, add_metrics_route
from bot.readiness import add_readiness
from bot.report.downloads import add_download_route
from bot.stations import sync_stations
from content.library import Library, default_library
from content.matching import Matcher
from core.clock import utc_clock
from core.stations import (
    own_telegram,
    own_zalo_bot,
    own_zalo_oa,
    sender_key,
    settings_for,
    station_ids,
    stations_with_own_bot,
)
from storage.db import open_database, upgrade

log = logging.getLogger(__name__)


def build_services(settings: Settings, clock: Callable[[], datetime] = utc_clock) -> Services:
    # The shipped library and its matcher are read-only once built: loaded once per process (the
    # tests build services hundreds of times; loading them cost more than most tests).
    library = default_library()
    return Services(
        settings=settings,
        db=open_database(settings.database.url),
        library=library,
        matcher=Matcher.from_default(),
        clock=clock,
        deliverer=OutboxDeliverer(clock),
        station_content=station_content(settings, library, clock().date()),
    )


def station_content(settings: Settings, shared: Library, today: date) -> dict[int, Any]:
    """Each station with its own library folder: (shared + its entries, a matcher over them).

    The folder passes the shared library's checks first (sources, review dates...): an error stops
    the start-up with the problems listed, as `healthbot content check` prints them.
    """
    from content.check import ERROR, format_problems
    from content.station_library import check_station_library, merged_library

    found: dict[int, Any] = {}
    for station_id in station_ids(settings):
        view = settings_for(settings, station_id).station
        if not view.library:
            continue
        problems = check_station_library(shared, Path(view.library), today)
        if any(p.severity == ERROR for p in problems):
            raise ConfigError(f"station {view.code}: library {view.library}:\n"
                              + format_problems(problems))
        merged = merged_library(shared, Path(view.library))
        found[station_id] = (merged, Matcher(merged))
    return found


def build_bot(services: Services) -> HealthBot:
    return MeteredHealthBot(services, main_router())  # counts handling for /metrics


def build_web_app(bot: HealthBot) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    add_readiness(app, bot.services)  # /readyz; 503 instead of a traceback while the DB is away
    add_metrics_route(app, bot.services)  # GET /metrics (Prometheus)
    add_download_route(app, REPORT_DIR)  # one-time report links for Zalo (issue 17)
    if bot.services.settings.web.enabled:
        WebChat(bot).add_routes(app)
    if bot.services.settings.console.enabled:  # the station's web console (issue 18)
        from bot.console import mount_console

        mount_console(app, bot)
    return app


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run everything until `stop` is set."""
    register_settings(settings)  # tokens and secrets are masked in every log line
    await upgrade(settings.database.url)
    services = build_services(settings)
    async with services.db.sessions() as session, session.begin():
        await sync_stations(session, settings)  # stations (issue 21): the table follows config
    bot = build_bot(services)
    app = build_web_app(bot)
    maintenance = start_maintenance(services, stop)
    stoppers: list[Stopper] = []
    for starter in channel_starters(settings):
        stoppers.append(await starter(bot, app))
    delivery = await start_delivery(services, stop)  # the outbox dispatcher and the plan
    # The access log names routes, never a path's values (download tokens) or query strings.
    runner = web.AppRunner(app, access_log=access_logger(), access_log_class=PrivateAccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, settings.web.host, settings.web.port)
    await site.start()
    log.info(
        "healthbot is running: web chat on http://%s:%s/", settings.web.host, settings.web.port
    )
    print(
        f"healthbot: web chat on http://{settings.web.host}:{settings.web.port}/ (Ctrl+C to stop)",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await delivery()  # before the channels: in-flight sends still have their senders
        for stopper in reversed(stoppers):
            try:
                await stopper()
            except Exception:
                log.exception("a channel did not stop cleanly")
        await runner.cleanup()
        await asyncio.gather(*maintenance, return_exceptions=True)
        await services.db.close()


async def start_delivery(services: Services, stop: asyncio.Event) -> Stopper:
    """Start the outbox dispatcher (over the senders the channels registered) and the planner.

    Returns the function that stops both: the planner first, then the dispatcher finishes and
    records what it has in flight.
    """
    import socket

    from scheduler.dispatcher import Dispatcher
    from scheduler.pacing import channel_limits
    from scheduler.plan import Plan, PlanError, load_plan
    from scheduler.planner import Planner

    settings = services.settings
    senders = services.extras.setdefault("senders", {})
    # A stable id (host and port): after a crash the restarted process resumes its rows at once.
    worker_id = f"{socket.gethostname()}:{settings.web.port}"
    pacing, redis = shared_pacing(settings)  # None, None: one worker, in-process pacing
    dispatcher = Dispatcher(services.db, senders, services.clock, worker_id,
                            limits=channel_limits(settings), pacer_factory=pacing)
    services.extras["dispatcher"] = dispatcher
    try:
        plan = load_plan(region=settings.station.region)
    except PlanError as exc:  # answer residents anyway; `healthbot plan check` shows the problems
        log.error("the communication plan is invalid, no campaign will fire: %s", exc)
        plan = Plan(campaigns=(), region=settings.station.region)
    planner = Planner(services.db, settings, services.library, plan, services.clock,
                      on_queued=dispatcher.wake)
    planner.start()
    services.extras["planner"] = planner  # the console's calendar shows its occurrences
    dispatching = asyncio.create_task(dispatcher.run_forever(stop))

    async def stop_delivery() -> None:
        await planner.stop()
        stop.set()
        await asyncio.gather(dispatching, return_exceptions=True)
        if redis is not None:
            await redis.aclose()

    return stop_delivery


def shared_pacing(settings: Settings) -> tuple[object | None, object | None]:
    """The Redis-backed pacer factory (and its client) when `[redis] url` is set."""
    if not settings.redis.url:
        return None, None
    from scheduler.shared_pacing import SharedPacing, connect_redis, token_namespace

    redis = connect_redis(settings.redis.url)
    zalo_oa_key = settings.zalo_oa.oa_id or settings.zalo_oa.app_id
    namespaces = {
        "telegram": token_namespace("telegram", settings.telegram.token),
        "zalo_bot": token_namespace("zalo_bot", settings.zalo_bot.token),
        "zalo_oa": token_namespace("zalo_oa", zalo_oa_key),
    }
    for station_id in stations_with_own_bot(settings):  # a station's own bot: its own limits
        own = own_telegram(settings, station_id)
        if own is not None:
            namespaces[sender_key("telegram", station_id)] = token_namespace("telegram", own.token)
    for station_id in stations_with_own_bot(settings, "zalo_bot"):
        zalo = own_zalo_bot(settings, station_id)
        if zalo is not None:
            namespaces[sender_key("zalo_bot", station_id)] = token_namespace("zalo_bot", zalo.token)
    for station_id in stations_with_own_bot(settings, "zalo_oa"):
        oa = own_zalo_oa(settings, station_id)
        if oa is not None:
            namespaces[sender_key("zalo_oa", station_id)] = token_namespace(
                "zalo_oa", oa.oa_id or oa.app_id)
    log.info("outbox pacing is shared by every worker through Redis")
    return SharedPacing(redis, namespaces), redis


Stopper = Callable[[], Awaitable[None]]
ChannelStarter = Callable[[HealthBot, web.Application], Awaitable[Stopper]]


def channel_starters(settings: Settings) -> list[ChannelStarter]:
    """The channels that have credentials; each module is imported only when it is used.

    A starter registers its webhook routes on the shared app (before it starts serving) or starts
    polling, and returns a coroutine function that stops it. Each is watched (`watched`): a
    station's own channel that fails to start is named in `/readyz` and `/metrics` and the
    others run on; a shared channel that fails still stops the start, as before.
    """
    starters: list[ChannelStarter] = []
    if settings.telegram.token:
        from bot.channels.telegram import start_telegram

        starters.append(watched(start_telegram, "telegram"))
    for station_id in stations_with_own_bot(settings):  # stations with their own bot (issue 21)
        from bot.channels.telegram import start_telegram

        starters.append(watched(start_telegram, "telegram", station_id))
    if settings.zalo_bot.token:
        from bot.channels.zalo_bot import start_zalo_bot

        starters.append(watched(start_zalo_bot, "zalo_bot"))
    for station_id in stations_with_own_bot(settings, "zalo_bot"):
        from bot.channels.zalo_bot import start_zalo_bot

        starters.append(watched(start_zalo_bot, "zalo_bot", station_id))
    if settings.zalo_oa.app_id:
        from bot.channels.zalo_oa import start_zalo_oa

        starters.append(watched(start_zalo_oa, "zalo_oa"))
    for station_id in stations_with_own_bot(settings, "zalo_oa"):  # a station's own OA
        from bot.channels.zalo_oa import start_zalo_oa

        starters.append(watched(start_zalo_oa, "zalo_oa", station_id))
    return starters


def watched(start: Callable[..., Awaitable[Stopper]], channel: str,
            station_id: int | None = None) -> ChannelStarter:
    """`start` for the shared channel or a station's own, its outcome kept in `ChannelHealth`."""
    name = sender_key(channel, station_id)

    async def starter(bot: HealthBot, app: web.Application) -> Stopper:
        health = channel_health(bot.services)
        try:
            stop = await (start(bot, app) if station_id is None
                          else start(bot, app, station_id=station_id))
        except Exception as exc:
            if health.states.get(name, UP) == UP:
                health.down(name, FAILED_TO_START)
            if station_id is None:
                raise
            # Only our own ConfigError's text: a platform error may carry the token in its URL.
            log.error("%s did not start (%s), the other channels run%s", name,
                      type(exc).__name__, f": {exc}" if isinstance(exc, ConfigError) else "")
            return nothing_to_stop
        if name not in health.states:  # a start that found trouble has said so already
            health.up(name)
        return stop

    return starter


async def nothing_to_stop() -> None:
    return None


def run(settings: Settings) -> None:
    """Blocking entry point for `healthbot run`."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(settings, stop)

    asyncio.run(main())
