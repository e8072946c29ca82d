"""The console's month calendar (issue 18, point 3): the plan's campaigns and the broadcasts.

From the same sources the scheduler fires: `scheduler.occurrences.occurrences` over the plan (with
the configured quiet hours, so a day shows the time a message really goes), and the `broadcasts`
table (staff announcements and urgent alerts waiting for approval, scheduled, queued; campaign
occurrences already fired, with their delivery figures from `bot.broadcast_figures`).
A fired campaign occurrence is matched to its plan occurrence (the planner's record: creator
``plan:<campaign>``, ``scheduled_at`` = the planned time), so it appears once.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcast_figures import Figures, figures_for
from bot.config import Settings
from bot.stations import broadcast_stations
from scheduler import broadcasts
from scheduler.occurrences import VN_TZ, campaign_windows, occurrences
from scheduler.plan import Plan
from scheduler.planner import PLAN_CREATOR_PREFIX
from storage.models import BroadcastRecord

PLANNED = "planned"  # a plan occurrence not fired yet


@dataclass
class Event:
    at: datetime  # local time it goes (after quiet hours)
    kind: str  # campaign | staff | urgent
    title: str
    status: str  # planned | pending_approval | scheduled | queued | skipped | cancelled | ...
    campaign_id: str | None = None
    broadcast_id: int | None = None
    urgent: bool = False
    audience: dict[str, Any] = field(default_factory=dict)
    figures: Figures | None = None


@dataclass
class Running:
    """A campaign whose window overlaps the month."""

    campaign_id: str
    title: str
    start: date
    end: date


@dataclass
class Month:
    year: int
    month: int
    weeks: list[list[date | None]]  # Monday first
    days: dict[date, list[Event]]
    campaigns: list[Running]

    @property
    def previous(self) -> tuple[int, int]:
        return (self.year - 1, 12) if self.month == 1 else (self.year, self.month - 1)

    @property
    def next(self) -> tuple[int, int]:
        return (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)

    @property
    def events(self) -> list[Event]:
        return [e for day in sorted(self.days) for e in self.days[day]]


_PLANS: dict[str, Plan | None] = {}


def fired_plan(services: Any) -> Plan | None:
    """The plan the scheduler fires: the running planner's, else the one it would load (the
    station's region, read once; the planner too reads it at start-up)."""
    planner = services.extras.get("planner")
    if planner is not None:
        return planner.plan  # type: ignore[no-any-return]
    region = services.settings.station.region
    if region not in _PLANS:
        from bot.report.files import load_plan_quietly

        _PLANS[region] = load_plan_quietly(services.settings)
    return _PLANS[region]


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=VN_TZ)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=VN_TZ)
    return start, end


def weeks_of(year: int, month: int) -> list[list[date | None]]:
    return [[d if d.month == month else None for d in week]
            for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)]


def _entry_title(library: Any, message_id: str | None, locale: str) -> str:
    if library is not None and message_id and library.has_entry(message_id):
        return str(library.entry(message_id).title(locale))
    return message_id or ""


async def month_data(session: AsyncSession, settings: Settings, plan: Plan | None, library: Any,
                     year: int, month: int, *, stations: Collection[int] | None,
                     locale: str = "vi") -> Month:
    """The month's events by local day and the campaigns running in it."""
    start, end = month_bounds(year, month)
    quiet = broadcasts.quiet_hours(settings)
    days: dict[date, list[Event]] = defaultdict(list)
    running: list[Running] = []
    fired: dict[tuple[str, datetime], BroadcastRecord] = {}
    records = (await session.execute(
        select(BroadcastRecord)
        .where(BroadcastRecord.scheduled_at >= start - timedelta(days=1),
               BroadcastRecord.scheduled_at < end)
        .order_by(BroadcastRecord.scheduled_at, BroadcastRecord.id))).scalars().all()
    figures = await figures_for(session, [r.id for r in records])
    for record in records:
        if record.kind == "campaign":
            fired[(record.created_by or "", record.scheduled_at)] = record
            continue
        if stations is not None and not set(broadcast_stations(record)) & set(stations):
            continue
        urgent = record.kind == "urgent"
        at = record.scheduled_at if urgent else quiet.release_time(record.scheduled_at)
        at = at.astimezone(VN_TZ)
        if not start <= at < end:
            continue
        title = (record.text or "")[:80] or _entry_title(library, record.message_id, locale)
        days[at.date()].append(Event(
            at=at, kind=record.kind, title=title, status=record.status,
            broadcast_id=record.id, urgent=urgent, audience=dict(record.audience or {}),
            figures=figures.get(record.id)))
    if plan is not None:
        for occ in occurrences(plan, start, end, quiet=quiet):
            record = fired.get((f"{PLAN_CREATOR_PREFIX}{occ.campaign_id}"[:64], occ.planned_at))
            days[occ.at.astimezone(VN_TZ).date()].append(Event(
                at=occ.at.astimezone(VN_TZ), kind="campaign",
                title=_entry_title(library, occ.message_id, locale),
                status=record.status if record is not None else PLANNED,
                campaign_id=occ.campaign_id, broadcast_id=record.id if record else None,
                urgent=occ.urgent, audience=occ.audience.to_dict(),
                figures=figures.get(record.id) if record is not None else None))
        last_day = (end - timedelta(days=1)).date()
        for campaign in plan.campaigns:
            for first, last in campaign_windows(campaign, start.date(), last_day):
                topic = library.topics.get(campaign.topic) if library is not None else None
                running.append(Running(campaign.id, topic.title(locale) if topic else
                                       campaign.id, first, last))
    for events in days.values():
        events.sort(key=lambda e: (e.at, e.title))
    return Month(year, month, weeks_of(year, month), dict(days),
                 sorted(running, key=lambda r: (r.start, r.campaign_id)))
