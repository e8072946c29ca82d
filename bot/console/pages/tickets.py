"""Feedback in the console: the queue (filters, SLA colours) and one ticket's page.

SLA colours use the chat's own working calendar (bot.feedback.sla.WorkingCalendar: working days,
hours and Vietnam's public holidays) of the ticket's station: red = past its deadline, amber =
at most two working hours left, green = more. Staff see only their stations' tickets; another
station's ticket is "not found", as in the chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.console.registry import _, page
from bot.console.visit import Visit, visit
from bot.feedback.categories import categories, category, category_name
from bot.feedback.notices import author_line, working_time_left
from bot.feedback.sla import WorkingCalendar
from bot.permissions import Action
from bot.stations import settings_for
from storage import tickets as store
from storage.models import Ticket, TicketEvent

SOON = timedelta(hours=2)
STATUSES = ("open", "new", "accepted", "answered", "closed", "all")
LIMIT = 300
# Staff's words in the conversation (the resident's additions are appended to the ticket's text
# by bot.feedback.filing); every event is also in the audit trail.
STAFF_EVENTS = ("answered", "note")


@dataclass
class Row:
    ticket: Ticket
    sla: str  # sla-late | sla-soon | sla-ok | "" (closed)
    due: datetime | None
    left: str


def status_labels(current: Visit) -> dict[str, str]:
    _ = current._
    return {"open": _("Open"), "new": _("New"), "accepted": _("Accepted"),
            "answered": _("Answered"), "closed": _("Closed"), "duplicate": _("Duplicate"),
            "all": _("All")}


def sla_of(current: Visit, ticket: Ticket, now: datetime) -> Row:
    """The ticket's deadline and colour, in its station's working time."""
    if ticket.status not in store.OPEN_STATUSES:
        return Row(ticket, "", None, "")
    due = ticket.accept_due if ticket.status == "new" else ticket.resolve_due
    if due is None:
        return Row(ticket, "sla-ok", None, "")
    cal = WorkingCalendar.from_settings(settings_for(current.settings, ticket.station_id))
    left = cal.working_time_between(now, due)
    colour = "sla-late" if left <= timedelta() else "sla-soon" if left <= SOON else "sla-ok"
    return Row(ticket, colour, due, working_time_left(current._, left))


async def visible_ticket(current: Visit, session: Any, ticket_id: int) -> Ticket | None:
    """The ticket when it exists and belongs to one of the member's stations."""
    ticket = await store.ticket_by_id(session, ticket_id)
    if ticket is None or ticket.station_id not in current.stations:
        return None
    return ticket


def names(current: Visit, ticket: Ticket) -> dict[str, str]:
    view = settings_for(current.settings, ticket.station_id)
    area = view.area(ticket.area_code) if ticket.area_code else None
    return {
        "category": category_name(category(view, ticket.category), current.locale,
                                  ticket.category),
        "area": area.name if area else (ticket.area_code or "—"),
        "station": view.station.name,
    }


@page("tickets", action=Action.TICKET_LIST, nav=_("Feedback"), order=10)
async def queue(request: web.Request) -> web.Response:
    current = visit(request)
    query = request.query
    status = query.get("status", "open")
    status = status if status in STATUSES else "open"
    wanted = {k: query.get(k, "")[:32] for k in ("category", "area")}
    overdue, mine = query.get("overdue") == "1", query.get("mine") == "1"
    stmt = select(Ticket).where(Ticket.station_id.in_(current.stations))
    if status == "open":
        stmt = stmt.where(Ticket.status.in_(store.OPEN_STATUSES))
    elif status == "closed":
        stmt = stmt.where(Ticket.status.in_(store.CLOSED_STATUSES))
    elif status != "all":
        stmt = stmt.where(Ticket.status == status)
    if wanted["category"]:
        stmt = stmt.where(Ticket.category == wanted["category"])
    if wanted["area"]:
        stmt = stmt.where(Ticket.area_code == wanted["area"])
    if mine and current.member is not None:
        stmt = stmt.where(Ticket.assignee == current.member.name)
    now = current.now()
    async with current.console.services.db.sessions() as session:
        found = (await session.execute(
            stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(LIMIT))).scalars()
        rows = [sla_of(current, t, now) for t in found if not overdue or store.is_overdue(t, now)]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    rows.sort(key=lambda r: (r.due is None, r.due or far))
    areas = {a.code: a.name for s in current.stations
             for a in settings_for(current.settings, s).areas}
    return current.render(
        "tickets.html", rows=rows, state=status, wanted=wanted, overdue=overdue, mine=mine,
        statuses=status_labels(current), names=lambda t: names(current, t),
        categories=[(c.code, category_name(c, current.locale, c.code))
                    for c in categories(current.settings)],
        areas=sorted(areas.items()), several=len(current.stations) > 1)


@page(r"tickets/{ticket_id:\d+}", action=Action.TICKET_LIST)
async def ticket_page(request: web.Request) -> web.Response:
    current = visit(request)
    now = current.now()
    async with current.console.services.db.sessions() as session:
        ticket = await visible_ticket(current, session, int(request.match_info["ticket_id"]))
        if ticket is None:
            raise web.HTTPNotFound()
        events = await store.events(session, ticket.id)
        author = await author_line(session, ticket, current._)
        duplicates = await store.duplicates_of(session, ticket.id)
    row = sla_of(current, ticket, now)
    thread = [{"who": "resident", "at": ticket.created_at, "text": ticket.text or "",
               "label": current._("Feedback")}]
    thread += [{"who": "staff", "at": e.created_at, "text": e.detail or "",
                "label": f"{e.actor}: {event_label(current, e)}"}
               for e in events if e.action in STAFF_EVENTS and e.detail]
    if ticket.rating:
        rating = current._("Rating: {rating}/5").format(rating=ticket.rating)
        thread.append({"who": "resident", "at": ticket.rated_at, "label": rating,
                       "text": ticket.rating_comment or ""})
    return current.render(
        "ticket.html", ticket=ticket, row=row, names=names(current, ticket), author=author,
        thread=thread, events=events, duplicates=duplicates, statuses=status_labels(current),
        label=lambda e: event_label(current, e), may_handle=current.allows(Action.TICKET_HANDLE),
        open_statuses=store.OPEN_STATUSES,
        actor=lambda e: current._("the resident") if e.actor == "resident" else e.actor,
        max_chars=current.settings.feedback.max_text_chars)


def event_label(current: Visit, event: TicketEvent) -> str:
    _ = current._
    labels = {
        "filed": _("filed"), "accepted": _("accepted"), "answered": _("answered the resident"),
        "note": _("internal note"), "closed": _("closed"), "reopened": _("reopened"),
        "transferred": _("moved to another category"), "duplicate": _("marked as a duplicate"),
        "added": _("the resident added"), "commented": _("the resident commented"),
        "rated": _("the resident rated"), "reminded": _("reminder sent to staff"),
        "escalated": _("escalated"), "blocked": _("sender blocked"),
        "unblocked": _("sender unblocked"),
    }
    return labels.get(event.action, event.action)
