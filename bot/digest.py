"""The morning digest: on working days at `[digest] time`, each staff chat that receives tickets
gets one message: new feedback, overdue, due today, yesterday's ratings and today's scheduled
broadcasts and campaigns.

`send_digest(services)` runs every minute; the outbox dedupe key `digest:<date>:<chat>` makes it
once a day per chat, whatever the restarts. A bot started long after the digest time (more than
`LATE_LIMIT`) skips that day rather than send a stale "morning" message in the afternoon.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Services
from bot.feedback.routing import StaffChat, admin_chats, parse_staff_chat
from bot.feedback.sla import WorkingCalendar
from bot.i18n import TIMEZONE, Gettext, gettext_for
from bot.model import Outbound
from bot.stations import only_stations, settings_for, station_ids
from storage import outbox, tickets
from storage.models import BroadcastRecord, Ticket

log = logging.getLogger(__name__)
LATE_LIMIT = timedelta(hours=3)
MAX_LISTED = 8  # codes listed per heading; the count always tells the whole number


def staff_chats(services: Services) -> list[StaffChat]:
    """Every chat tickets go to: the station's, each category's, else the admins' own."""
    settings = services.settings
    values = [settings.feedback.staff_chat, *(c.staff_chat for c in settings.feedback.categories)]
    found = {c.key: c for v in values if v if (c := parse_staff_chat(v, settings)) is not None}
    if not found:
        found = {c.key: c for c in admin_chats(settings)}
    return list(found.values())


def _local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0, 0), tzinfo=TIMEZONE)
    return start, start + timedelta(days=1)


def _codes(found: list[Ticket]) -> str:
    codes = [t.code or "?" for t in found[:MAX_LISTED]]
    return ", ".join(codes) + (" …" if len(found) > MAX_LISTED else "")


async def digest_text(services: Services, session: AsyncSession, day: date, now: datetime,
                      _: Gettext, stations: list[int] | None = None) -> str:
    """The digest for local `day`, seen at `now`, of `stations` (None: all)."""
    open_ = await tickets.list_tickets(session, status="open", now=now, stations=stations)
    new = [t for t in open_ if t.status == "new"]
    overdue = [t for t in open_ if tickets.is_overdue(t, now)]
    start, end = _local_day_bounds(day)
    due_today = [t for t in open_ if not tickets.is_overdue(t, now) and any(
        d is not None and start <= d < end
        for d in ((t.accept_due if t.status == "new" else None), t.resolve_due))]
    y_start, y_end = _local_day_bounds(day - timedelta(days=1))
    rated_stmt = select(Ticket).where(Ticket.rated_at >= y_start, Ticket.rated_at < y_end)
    rated = list((await session.execute(
        only_stations(rated_stmt, Ticket, stations or None).order_by(Ticket.rated_at)
    )).scalars().all())
    lines = [_("Good morning! The station's day, {day}:").format(day=f"{day:%d/%m/%Y}"), ""]
    for label, found in ((_("New feedback"), new), (_("Overdue"), overdue),
                         (_("Due today"), due_today)):
        lines.append(f"• {label}: {len(found)}" + (f" ({_codes(found)})" if found else ""))
    if rated:
        lines.append("• " + _("Yesterday's ratings:"))
        for t in rated:
            comment = f" “{t.rating_comment[:80]}”" if t.rating_comment else ""
            lines.append(f"   {t.code}: {'⭐' * int(t.rating or 0)} {t.rating}/5{comment}")
    else:
        lines.append("• " + _("Yesterday's ratings: none"))
    sends = await _todays_sends(services, session, start, end)
    if sends:
        lines.append("• " + _("Scheduled for today:"))
        lines += [f"   {at.astimezone(TIMEZONE):%H:%M} {what}" for at, what in sends]
    else:
        lines.append("• " + _("Scheduled for today: nothing"))
    lines += ["", _("Send /dangmo for the open list, /quahan for the overdue ones.")]
    return "\n".join(lines)


async def _todays_sends(services: Services, session: AsyncSession, start: datetime,
                        end: datetime) -> list[tuple[datetime, str]]:
    found: list[tuple[datetime, str]] = []
    records = (await session.execute(
        select(BroadcastRecord).where(
            BroadcastRecord.kind.in_(("staff", "urgent")),
            BroadcastRecord.status.in_(("scheduled", "pending_approval")),
            BroadcastRecord.scheduled_at >= start, BroadcastRecord.scheduled_at < end)
        .order_by(BroadcastRecord.scheduled_at))).scalars().all()
    for record in records:
        found.append((record.scheduled_at, (record.text or record.message_id or "")[:60]))
    try:
        from scheduler.broadcasts import quiet_hours
        from scheduler.occurrences import occurrences
        from scheduler.plan import load_plan

        plan = load_plan(region=services.settings.station.region)
        for occ in occurrences(plan, start, end, quiet=quiet_hours(services.settings)):
            title = occ.message_id
            if services.library.has_entry(occ.message_id):
                title = services.library.entry(occ.message_id).title("vi")
            found.append((occ.at, f"{title} ({occ.campaign_id})"))
    except Exception:  # noqa: BLE001 - an invalid plan must not stop the digest
        log.warning("the plan could not be read for the morning digest")
    return sorted(found, key=lambda item: item[0])


async def send_digest(services: Services) -> int:
    """Queue today's digest for every staff chat once the time has come; returns how many."""
    settings = services.settings
    if not settings.digest.time:
        return 0
    now = services.clock()
    local = now.astimezone(TIMEZONE)
    at = datetime.combine(local.date(), time.fromisoformat(settings.digest.time), tzinfo=TIMEZONE)
    if not (at <= local < at + LATE_LIMIT):
        return 0
    if not WorkingCalendar.from_settings(settings).is_working_day(local.date()):
        return 0
    if services.deliverer is None:
        return 0
    _ = gettext_for(settings.station.default_language)
    queued = 0
    if settings.stations:  # several stations (issue 21): each its own digest, to its own chat
        return await _digest_per_station(services, local, now, _)
    async with services.db.sessions() as session, session.begin():
        text = await digest_text(services, session, local.date(), now, _)
        for chat in staff_chats(services):
            await services.deliverer.enqueue(
                session, channel=chat.channel, chat_id=chat.chat_id, message=Outbound(text=text),
                dedupe_key=f"digest:{local.date():%Y-%m-%d}:{chat.key}"[:191],
                priority=outbox.PRIORITY_STAFF, chat_kind=chat.kind)
            queued += 1
    return queued


async def _digest_per_station(services: Services, local: datetime, now: datetime,
                              _: Gettext) -> int:
    """Each station's digest, of its tickets only, to its configured staff chats; a station
    without one gets none (the admins' own chats may be another station's people)."""
    assert services.deliverer is not None
    queued = 0
    async with services.db.sessions() as session, session.begin():
        for station_id in station_ids(services.settings):
            view = dataclasses.replace(services,
                                       settings=settings_for(services.settings, station_id))
            values = [view.settings.feedback.staff_chat,
                      *(c.staff_chat for c in view.settings.feedback.categories)]
            chats = {c.key: c for v in values if v
                     if (c := parse_staff_chat(v, view.settings)) is not None}
            if not chats:
                log.warning("station %s has no staff chat: no morning digest", station_id)
                continue
            text = await digest_text(view, session, local.date(), now, _, [station_id])
            for chat in chats.values():
                await services.deliverer.enqueue(
                    session, channel=chat.channel, chat_id=chat.chat_id,
                    message=Outbound(text=text),
                    dedupe_key=f"digest:{local.date():%Y-%m-%d}:s{station_id}:{chat.key}"[:191],
                    priority=outbox.PRIORITY_STAFF, chat_kind=chat.kind)
                queued += 1
    return queued
