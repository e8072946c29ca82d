"""The console's campaign calendar and broadcasts (issue 18, point 3): the month view of the
plan's occurrences and the broadcasts table (bot.console.calendar_data), the recent broadcasts
with their delivery figures, and one broadcast's page."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from babel.dates import get_day_names
from sqlalchemy import select

from bot.broadcast_figures import figures_for
from bot.config import Settings
from bot.console import calendar_data
from bot.console.registry import _, page
from bot.console.visit import Visit, visit
from bot.i18n import TIMEZONE, Gettext
from bot.permissions import Action
from bot.report.content import plan_item_name
from bot.stations import broadcast_stations, settings_for, station_ids
from content.library import Library
from scheduler.plan import Plan
from scheduler.planner import PLAN_CREATOR_PREFIX
from storage.models import BroadcastRecord

RECENT = 50


def status_labels(_: Gettext) -> dict[str, str]:
    return {
        "planned": _("planned"), "draft": _("draft"),
        "pending_approval": _("waiting for approval"), "scheduled": _("scheduled"),
        "queued": _("sent"), "skipped": _("missed (the bot was down)"),
        "cancelled": _("cancelled"), "rejected": _("rejected"),
    }


def _month(value: str | None, now: datetime) -> tuple[int, int]:
    local = now.astimezone(TIMEZONE)
    try:
        year, month = (int(p) for p in (value or "").split("-", 1))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    return local.year, local.month


def visible(record: BroadcastRecord | None, stations: list[int], settings: Settings,
            plan: Plan | None) -> bool:
    """Staff see a broadcast that reaches one of their stations; a plan occurrence that reached
    one of them (the planner's answer: a staff-only reminder is the plan's own station's)."""
    if record is None:
        return False
    if record.kind == "campaign":
        return calendar_data.shown(
            calendar_data.campaign_record_reach(settings, plan, record), stations)
    return bool(set(broadcast_stations(record)) & set(stations))


def _station_choice(current: Visit, wanted: str | None) -> int | None:
    """The one station a member picked among theirs (province staff: any), else None: all of
    theirs."""
    picked = int(wanted) if wanted and wanted.isdigit() else None
    return picked if picked in current.stations else None


@page("calendar", action=Action.BROADCAST_VIEW, nav=_("Calendar"), order=30)
async def calendar(request: web.Request) -> web.Response:
    current = visit(request)
    services = current.console.services
    year, month = _month(request.query.get("month"), current.now())
    chosen = _station_choice(current, request.query.get("station"))
    shown = [chosen] if chosen is not None else current.stations
    async with services.db.sessions() as session:
        data = await calendar_data.month_data(
            session, current.settings, calendar_data.fired_plan(services), services.library,
            year, month, stations=shown, locale=current.locale)
    today = current.now().astimezone(TIMEZONE).date()
    names = get_day_names("abbreviated", locale=current.locale)
    station_names = {s: settings_for(current.settings, s).station.name for s in current.stations}
    every = set(station_ids(current.settings))

    def where(stations: tuple[int, ...] | None) -> str:
        """The stations an event reaches, named (only when the page shows several)."""
        if stations is None or len(shown) < 2:
            return ""
        if set(stations) >= every and len(every) > 1:
            return current._("every station")
        return ", ".join(station_names.get(s) or settings_for(current.settings, s).station.name
                         for s in stations if s in shown)

    return current.render("calendar.html", month=data, today=today,
                          weekdays=[names[i] for i in range(7)],
                          statuses=status_labels(current._),
                          can_compose=current.allows(Action.BROADCAST_COMPOSE),
                          stations=list(station_names.items()), chosen=chosen,
                          province=bool(current.member and current.member.province),
                          where=where)


@page("broadcasts", action=Action.BROADCAST_VIEW, nav=_("Broadcast list"), order=31)
async def broadcasts_list(request: web.Request) -> web.Response:
    current = visit(request)
    services = current.console.services
    plan = calendar_data.fired_plan(services)
    async with services.db.sessions() as session:
        records = [r for r in (await session.execute(
            select(BroadcastRecord).order_by(BroadcastRecord.scheduled_at.desc(),
                                             BroadcastRecord.id.desc())
            .limit(RECENT * 4))).scalars()
            if visible(r, current.stations, current.settings, plan)][:RECENT]
        figures = await figures_for(session, [r.id for r in records])
    return current.render("broadcasts.html", records=records, figures=figures,
                          titles={r.id: title_of(r, services.library, current.locale, plan)
                                  for r in records},
                          statuses=status_labels(current._),
                          can_compose=current.allows(Action.BROADCAST_COMPOSE))


def campaign_of(record: BroadcastRecord) -> str | None:
    """The plan id of a fired plan occurrence (None for staff broadcasts)."""
    if record.kind != "campaign":
        return None
    return (record.created_by or "").removeprefix(PLAN_CREATOR_PREFIX)


def title_of(record: BroadcastRecord, library: Library, locale: str,
             plan: Plan | None = None) -> str:
    campaign = campaign_of(record)
    if campaign is not None:  # a plan item as the report names it, never its plan id
        topic = (library.entry(record.message_id).topic_id
                 if record.message_id and library.has_entry(record.message_id) else None)
        return plan_item_name(campaign, plan=plan, library=library, locale=locale, topic=topic)
    if record.text:
        return record.text[:80]
    if record.message_id and library.has_entry(record.message_id):
        return library.entry(record.message_id).title(locale)
    return record.message_id or ""


@page("broadcasts/{broadcast_id:\\d+}", action=Action.BROADCAST_VIEW)
async def broadcast_page(request: web.Request) -> web.Response:
    current = visit(request)
    services = current.console.services
    plan = calendar_data.fired_plan(services)
    async with services.db.sessions() as session:
        record = await session.get(BroadcastRecord, int(request.match_info["broadcast_id"]))
        if not visible(record, current.stations, current.settings, plan):
            raise web.HTTPNotFound()
        assert record is not None
        figures = (await figures_for(session, [record.id]))[record.id]
    return current.render(
        "broadcast.html", record=record, figures=figures, campaign=campaign_of(record),
        title=title_of(record, services.library, current.locale, plan),
        detail=calendar_data.message_detail(current.settings, services.library,
                                            record.message_id, current.locale)
        if record.kind == "campaign" else "",
        statuses=status_labels(current._))
