"""Residents' data requests (Decree 13/2023) from the console: find a resident by a ticket code or
a chat id, see what the station keeps about them, erase it on their request.

The admin's alone (Action.DATA_REQUEST): it shows a person's phone and children and deletes for
good. Erasure is the resident's own ("Xoá dữ liệu của tôi", storage.erasure). Every search, view
and erasure is in the audit log with the person's id only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import and_, func, or_, select

from bot.console.registry import _, page
from bot.console.visit import Visit, redirect, visit
from bot.permissions import Action
from storage import people
from storage import tickets as ticket_store
from storage.models import Identity, MessageLog, Person

MAX_QUERY = 64


async def find_person(session: Any, query: str) -> Person | None:
    """The resident behind a ticket code (PA-2026-0001) or a chat/user id on any channel."""
    person_id = None
    if query.upper().startswith(f"{ticket_store.CODE_PREFIX}-"):
        ticket = await ticket_store.ticket_by_code(session, query.upper())
        person_id = ticket.person_id if ticket is not None else None
    else:
        stmt = select(Identity.person_id).where(Identity.external_id == query).limit(1)
        person_id = (await session.execute(stmt)).scalar_one_or_none()
    return await session.get(Person, person_id) if person_id else None


async def messages_kept(session: Any, person_id: int) -> int:
    """Messages in the log from or to the resident's own chats (and theirs in groups)."""
    pairs = (await session.execute(select(Identity.channel, Identity.external_id)
                                   .where(Identity.person_id == person_id))).all()
    if not pairs:
        return 0
    mine = or_(*(and_(MessageLog.channel == channel,
                      or_(MessageLog.chat_id == ext, MessageLog.user_id == ext))
                 for channel, ext in pairs))
    stmt = select(func.count()).select_from(MessageLog).where(mine)
    return int((await session.execute(stmt)).scalar_one())


@page("data", action=Action.DATA_REQUEST, nav=_("Data requests"), order=80)
async def data_requests(request: web.Request) -> web.Response:
    current = visit(request)
    query = " ".join(request.query.get("q", "").split())[:MAX_QUERY]
    found: dict[str, Any] | None = None
    person_id = None
    if query:
        async with current.console.services.db.sessions() as session:
            person = await find_person(session, query)
            if person is not None and person.station_id in current.stations:
                person_id = person.id
                found = await people.personal_data(session, person.id)
                found["messages"] = await messages_kept(session, person.id)
        await current.audit("data.view" if found else "data.search", person_id,
                            outcome="ok" if found else "failed")
    return current.render("data.html", query=query, found=found, person_id=person_id,
                          facts=facts(current, found) if found else [])


def facts(current: Visit, data: dict[str, Any]) -> list[tuple[str, str]]:
    _ = current._
    none = _("(nothing)")
    children = ", ".join(f"{name} ({current_date(current, born)})"
                         for name, born in data.get("children") or [])
    return [
        (_("Apps"), ", ".join(data.get("channels") or []) or none),
        (_("Language"), data.get("locale") or none),
        (_("Area"), data.get("area") or none),
        (_("Phone number"), data.get("phone") or none),
        (_("Consent given"), current_date(current, data.get("consent_at")) or none),
        (_("News topics"), ", ".join(data.get("topics") or []) or none),
        (_("Children registered for reminders"), children or none),
        (_("Feedback tickets"), ", ".join(data.get("tickets") or []) or none),
        (_("Messages kept"), str(data.get("messages", 0))),
    ]


def current_date(current: Visit, value: Any) -> str:
    from bot.i18n import local_date

    return local_date(value, current.locale) if value else ""


@page(r"data/{person_id:\d+}/erase", action=Action.DATA_REQUEST, method="POST")
async def erase(request: web.Request) -> web.Response:
    current = visit(request)
    person_id = int(request.match_info["person_id"])
    form = await request.post()
    if form.get("confirm") != "yes":
        await current.audit("data.erase", person_id, outcome="failed")
        current.flash(current._("Tick the box to confirm the resident asked for erasure."))
        return redirect("/console/data")
    async with current.console.services.db.sessions() as session, session.begin():
        person = await session.get(Person, person_id)
        allowed = person is not None and person.station_id in current.stations
        if allowed:
            await people.erase_person(session, person_id)
    if not allowed:
        await current.audit("data.erase", person_id, outcome="refused")
        raise web.HTTPNotFound()
    await current.audit("data.erase", person_id)
    current.flash(current._("The resident's data has been deleted."))
    return redirect("/console/data")
