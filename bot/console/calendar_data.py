"""The console's month calendar (issue 18, point 3): the plan's campaigns and the broadcasts.

From the same sources the scheduler fires: `scheduler.occurrences.occurrences` over the plan (with
the configured quiet hours, so a day shows the time a message really goes), and the `broadcasts`
table (staff announcements and urgent alerts waiting for approval, scheduled, queued; campaign
occurrences already fired, with their delivery figures from `bot.broadcast_figures`).
A fired campaign occurrence is matched to its plan occurrence (the planner's record: creator
``plan:<campaign>``, ``scheduled_at`` = the planned time), so it appears once.

Stations (issue 21): each event carries the stations it reaches, from the planner's own answer
(`scheduler.broadcasts.plan_stations`: a residents' campaign the stations of the plan's region, a
staff-only item the plan's own station) or the broadcast's audience (`broadcast_stations`); a
member sees the events of the stations asked for, never another station's. A campaign is named
as the report names plan items (`bot.report.content.plan_item_name`), never by its plan id.
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
from bot.i18n import gettext_for
from bot.report.content import plan_item_name
from bot.stations import broadcast_stations, settings_for
from scheduler import broadcasts, report_reminders
from scheduler.occurrences import VN_TZ, campaign_windows, occurrences
from scheduler.plan import Audience, Plan
from scheduler.planner import PLAN_CREATOR_PREFIX
from storage.models import BroadcastRecord

PLANNED = "planned"  # a plan occurrence not fired yet


@dataclass
class Event:
    at: datetime  # local time it goes (after quiet hours)
    kind: str  # campaign | staff | urgent
    title: str
    status: str  # planned | pending_approval | scheduled | queued | skipped | cancelled | ...
    campaign_id: str | None = None  # the plan's id: a secondary detail, never the label
    broadcast_id: int | None = None
    urgent: bool = False
    audience: dict[str, Any] = field(default_factory=dict)
    figures: Figures | None = None
    detail: str = ""  # a campaign's message: its library title, or what a staff reminder is about
    stations: tuple[int, ...] | None = None  # the stations it reaches (None: a single station)


@dataclass
class Running:
    """A campaign whose window overlaps the month."""

    campaign_id: str
    title: str
    start: date
    end: date
    stations: tuple[int, ...] | None = None


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


def message_detail(settings: Settings, library: Any, message_id: str | None, locale: str) -> str:
    """What a campaign's message is, in words: a library entry's title; a staff reminder's report
    or check-up area (the plan's own station's areas, as the planner renders it); never an id."""
    if not message_id:
        return ""
    if library is not None and library.has_entry(message_id):
        return str(library.entry(message_id).title(locale))
    t = gettext_for(locale)
    if message_id in report_reminders.STAFF_MESSAGES:
        return t(report_reminders.STAFF_MESSAGES[message_id])
    code = report_reminders.checkup_area(message_id)
    if code is None:
        return ""
    if code == "*":
        return t("every area")
    area = settings_for(settings, broadcasts.PLAN_STATION).area(code)
    return area.name if area is not None else ""


def reach(settings: Settings, plan: Plan | None, audience: Audience) -> tuple[int, ...] | None:
    """The stations a plan occurrence to `audience` reaches: the planner's own answer."""
    region = plan.region if plan is not None else settings.station.region
    found = broadcasts.plan_stations(settings, region, audience)
    return None if found is None else tuple(found)


def campaign_record_reach(settings: Settings, plan: Plan | None,
                          record: BroadcastRecord) -> tuple[int, ...] | None:
    """The stations a fired plan occurrence (its `broadcasts` row) reached."""
    return reach(settings, plan, Audience(staff=bool((record.audience or {}).get("staff"))))


def shown(reached: Collection[int] | None, stations: Collection[int] | None) -> bool:
    """An event reaching `reached` is shown to a member looking at `stations` (None: all)."""
    return reached is None or stations is None or bool(set(reached) & set(stations))


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
        reached = tuple(broadcast_stations(record))
        if not shown(reached, stations):
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
            figures=figures.get(record.id), stations=reached))
    if plan is not None:
        for occ in occurrences(plan, start, end, quiet=quiet):
            reached = reach(settings, plan, occ.audience)
            if not shown(reached, stations):
                continue
            record = fired.get((f"{PLAN_CREATOR_PREFIX}{occ.campaign_id}"[:64], occ.planned_at))
            title = plan_item_name(occ.campaign_id, plan=plan, library=library, locale=locale)
            detail = message_detail(settings, library, occ.message_id, locale)
            days[occ.at.astimezone(VN_TZ).date()].append(Event(
                at=occ.at.astimezone(VN_TZ), kind="campaign", title=title,
                detail="" if detail.casefold() == title.casefold() else detail,
                status=record.status if record is not None else PLANNED,
                campaign_id=occ.campaign_id, broadcast_id=record.id if record else None,
                urgent=occ.urgent, audience=occ.audience.to_dict(),
                figures=figures.get(record.id) if record is not None else None,
                stations=reached))
        last_day = (end - timedelta(days=1)).date()
        for campaign in plan.campaigns:
            reached = reach(settings, plan, campaign.audience)
            if not shown(reached, stations):
                continue
            title = plan_item_name(campaign.id, plan=plan, library=library, locale=locale)
            for first, last in campaign_windows(campaign, start.date(), last_day):
                running.append(Running(campaign.id, title, first, last, reached))
    for events in days.values():
        events.sort(key=lambda e: (e.at, e.title))
    return Month(year, month, weeks_of(year, month), dict(days),
                 sorted(running, key=lambda r: (r.start, r.campaign_id)))
