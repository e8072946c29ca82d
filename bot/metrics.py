"""Prometheus metrics at GET /metrics, for the province's monitoring (see docs/deploy.md).

Per worker (counters since this process started; Prometheus sums the workers):
- ``healthbot_inbound_total{channel}``: updates handled; ``rate()`` of it is the inbound rate;
- ``healthbot_handling_seconds{channel}``: handling latency (a histogram);
- ``healthbot_outbox_sends_total{outcome}``: this worker's dispatcher outcomes (sent, retried,
  failed, skipped, deferred, rate_limited, migrated);
- ``healthbot_channel_up{channel}``: 1 or 0 for each channel this worker started (``telegram``,
  ``telegram@2``, ``zalo_oa@3``...), and ``healthbot_channel_down{channel,reason}`` = 1 for each
  one that is down (reason ``token_rejected``, ``token_expired`` or ``failed_to_start``).
From the database, read at each scrape (the same figure whichever worker answers):
- ``healthbot_outbox_depth{status}``: rows pending (due or not) and sending;
- ``healthbot_outbox_oldest_due_seconds``: how long the oldest due pending row has waited;
- ``healthbot_tickets_overdue``: open tickets past their acceptance or resolution deadline.

The handling is counted by `MeteredHealthBot`, which `bot.app.build_bot` uses: the engine stays
unaware of monitoring. Nothing personal is ever a label (channel and outcome names only).
"""

from __future__ import annotations

import time
from datetime import datetime

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, or_, select

from bot.channel_health import UP, ChannelHealth, channel_health
from bot.context import Services
from bot.engine import HealthBot
from bot.model import Capabilities, Inbound, Outbound
from storage.models import Outbox, Ticket
from storage.tickets import OPEN_STATUSES

METRICS_PATH = "/metrics"
# Handling is milliseconds normally; the top buckets catch a database in trouble.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OUTBOX_STATUSES = ("pending", "sending", "held")


class Metrics:
    """One registry per running bot (tests run several bots in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.inbound = Counter("healthbot_inbound", "Updates handled.", ["channel"], registry=r)
        self.latency = Histogram("healthbot_handling_seconds", "Time to handle one update.",
                                 ["channel"], buckets=LATENCY_BUCKETS, registry=r)
        self.sends = Counter("healthbot_outbox_sends", "Outbox outcomes of this worker.",
                             ["outcome"], registry=r)
        self.depth = Gauge("healthbot_outbox_depth", "Outbox rows by status.", ["status"],
                           registry=r)
        self.oldest = Gauge("healthbot_outbox_oldest_due_seconds",
                            "Wait of the oldest due pending outbox row.", registry=r)
        self.overdue = Gauge("healthbot_tickets_overdue", "Open tickets past a deadline.",
                             registry=r)
        self.channel_up = Gauge("healthbot_channel_up", "1 if this channel is up, else 0.",
                                ["channel"], registry=r)
        self.channel_down = Gauge("healthbot_channel_down", "1 for a channel that is down, by "
                                  "reason.", ["channel", "reason"], registry=r)
        self._sends_seen: dict[str, int] = {}

    def take_channel_health(self, health: ChannelHealth) -> None:
        self.channel_down.clear()  # a channel back up loses its reason
        for name, state in health.states.items():
            self.channel_up.labels(name).set(1 if state == UP else 0)
            if state != UP:
                self.channel_down.labels(name, state).set(1)

    def observe(self, channel: str, seconds: float) -> None:
        self.inbound.labels(channel).inc()
        self.latency.labels(channel).observe(seconds)

    def take_dispatcher_stats(self, stats: dict[str, int]) -> None:
        """Bring the send counter up to the dispatcher's own tallies."""
        for outcome, total in stats.items():
            seen = self._sends_seen.get(outcome, 0)
            if total > seen:
                self.sends.labels(outcome).inc(total - seen)
            self._sends_seen[outcome] = total
            self.sends.labels(outcome)  # every outcome is exported, 0 included

    async def read_database(self, services: Services, now: datetime) -> None:
        async with services.db.sessions() as session:
            counts = dict((await session.execute(
                select(Outbox.status, func.count())
                .where(Outbox.status.in_(OUTBOX_STATUSES))
                .group_by(Outbox.status)
            )).all())
            oldest = (await session.execute(
                select(func.min(Outbox.not_before))
                .where(Outbox.status == "pending", Outbox.not_before <= now)
            )).scalar()
            overdue = (await session.execute(
                select(func.count()).select_from(Ticket).where(
                    Ticket.status.in_(OPEN_STATUSES),
                    or_((Ticket.status == "new") & (Ticket.accept_due <= now),
                        Ticket.resolve_due <= now),
                )
            )).scalar() or 0
        for status in OUTBOX_STATUSES:
            self.depth.labels(status).set(counts.get(status, 0))
        if oldest is not None and oldest.tzinfo is None:  # defensive: stored times are UTC
            from datetime import UTC

            oldest = oldest.replace(tzinfo=UTC)
        self.oldest.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        self.overdue.set(overdue)


class MeteredHealthBot(HealthBot):
    """The conversation engine, counting each handled update and its latency."""

    def __init__(self, services: Services, *args: object, **kwargs: object) -> None:
        super().__init__(services, *args, **kwargs)  # type: ignore[arg-type]
        self.metrics: Metrics = services.extras.setdefault("metrics", Metrics())

    async def handle(
        self, inbound: Inbound, caps: Capabilities, *, update_key: str | None = None
    ) -> list[Outbound]:
        started = time.perf_counter()
        try:
            return await super().handle(inbound, caps, update_key=update_key)
        finally:
            self.metrics.observe(inbound.channel, time.perf_counter() - started)


def add_metrics_route(app: web.Application, services: Services) -> None:
    """GET /metrics in the Prometheus text format."""
    metrics: Metrics = services.extras.setdefault("metrics", Metrics())

    async def serve_metrics(_request: web.Request) -> web.Response:
        dispatcher = services.extras.get("dispatcher")
        if dispatcher is not None:
            metrics.take_dispatcher_stats(dispatcher.stats)
        metrics.take_channel_health(channel_health(services))
        await metrics.read_database(services, services.clock())
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get(METRICS_PATH, serve_metrics)
