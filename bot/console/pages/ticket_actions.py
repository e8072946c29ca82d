"""Acting on a ticket from the console: accept, answer, add a note, close, reopen.

Each calls the same function the chat's buttons and commands call (bot.feedback.handling), in one
transaction with the ticket: the audit trail (ticket_events) names the staff member, and what the
resident is told goes through the outbox to the channel they used. The console's audit log gets
one row per action (ticket id only).
"""

from __future__ import annotations

from aiohttp import web

from bot.console.acting import staff_context
from bot.console.pages.tickets import visible_ticket
from bot.console.registry import page
from bot.console.visit import redirect, visit
from bot.feedback import handling
from bot.permissions import Action

VERBS = "accept|answer|note|close|reopen"
DOMAIN = {
    "accept": lambda ctx, ticket, member, _text: handling.accept(ctx, ticket, member),
    "answer": lambda ctx, ticket, member, text: handling.answer(ctx, ticket, member, text, None),
    "note": handling.add_note,
    "close": lambda ctx, ticket, member, _text: handling.close(ctx, ticket, member),
    "reopen": lambda ctx, ticket, member, _text: handling.reopen(ctx, ticket, member),
}


@page(r"tickets/{ticket_id:\d+}/{verb:(" + VERBS + ")}", action=Action.TICKET_HANDLE,
      method="POST")
async def act(request: web.Request) -> web.Response:
    current = visit(request)
    member = current.member
    assert member is not None  # the guard let only signed-in staff through
    verb = request.match_info["verb"]
    ticket_id = int(request.match_info["ticket_id"])
    form = await request.post()
    text = str(form.get("text", "")).strip()[: current.settings.feedback.max_text_chars]
    services = current.console.services
    async with services.db.sessions() as session, session.begin():
        ticket = await visible_ticket(current, session, ticket_id)
        if ticket is not None:
            station_id = ticket.station_id
            ctx = staff_context(services, session, member, current.locale, station_id=station_id)
            done = await DOMAIN[verb](ctx, ticket, member, text)
    if ticket is None:  # none, or another station's: the same "not found"
        await current.audit(f"ticket.{verb}", ticket_id, outcome="refused")
        raise web.HTTPNotFound()
    await current.audit(f"ticket.{verb}", ticket_id, station_id=station_id)
    dispatcher = services.extras.get("dispatcher")
    if dispatcher is not None:
        dispatcher.wake()  # the resident's message goes out now, not at the next poll
    current.flash(done)
    return redirect(f"/console/tickets/{ticket_id}")
