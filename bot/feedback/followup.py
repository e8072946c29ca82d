"""After filing: replies about a ticket (from staff or the resident) and the resident's rating.

A reply is matched to its ticket by the platform id of the message replied to (the dispatcher
stores `sent_message_id` on each outbox row, and every message about a ticket carries its id).
"""

from __future__ import annotations

import logging

from bot import staff_notices
from bot.context import Context
from bot.feedback import handling
from bot.feedback.categories import category, category_name
from bot.feedback.filing import add_to_ticket, status_label
from bot.i18n import local_date
from bot.model import Button
from storage import tickets

log = logging.getLogger(__name__)
RATE = "feedback.rate"
COMMENT = "feedback.comment"
MAX_COMMENT_CHARS = 1000
STARS = range(1, 6)
PENDING = "feedback.pending"
MAX_OFFERED = 3
MAX_LISTED = 10


async def reply_to_ticket(ctx: Context) -> bool:
    """Handle a reply to a message about a ticket; False when the message is not such a reply."""
    inbound = ctx.inbound
    if not inbound.reply_to_message_id:
        return False
    ticket = await tickets.ticket_by_sent_message(
        ctx.session, inbound.channel, inbound.chat_id, inbound.reply_to_message_id
    )
    if ticket is None:
        return await _offer_to_add(ctx)
    in_resident_chat = ticket.channel == inbound.channel and ticket.chat_id == inbound.chat_id
    if in_resident_chat and inbound.chat_kind == "private":
        if ticket.person_id != ctx.contact.person.id:
            ctx.reply(ctx._("I could not find that feedback among yours."))
            return True
        ctx.reply(await add_to_ticket(ctx, ticket, inbound.text, inbound.photo))
        return True
    await tickets.remember_staff_message(ctx.session, ticket)
    member = ctx.staff_member()
    if member is None:
        log.warning("refused a ticket reply from a non-staff %s user", inbound.channel)
        ctx.reply(ctx._("Sorry, only the health station's staff can answer feedback."))
        return True
    ctx.reply(await handling.answer(ctx, ticket, member, inbound.text, inbound.photo))
    return True


async def _offer_to_add(ctx: Context) -> bool:
    """A reply to a message we cannot trace (the bot's direct replies have no stored id): when
    the resident has open tickets, ask whether it belongs to one of them."""
    if ctx.inbound.chat_kind != "private" or ctx.state:
        return False
    own = await tickets.open_tickets_of_resident(ctx.session, ctx.contact.person.id)
    if not own:
        return False
    _ = ctx._
    ctx.set_state(PENDING, text=ctx.inbound.text, photo=ctx.inbound.photo)
    rows = [
        [Button(_("Add to {code}").format(code=t.code), f"fb:addp:{t.id}")]
        for t in own[-MAX_OFFERED:]
    ]
    rows.append([Button(_("No, it is a new question"), "fb:askp")])
    ctx.reply(_("Is this an addition to your feedback?"), rows)
    return True


async def add_pending(ctx: Context, ticket_id: str) -> None:
    """The resident chose the ticket their earlier reply belongs to."""
    data = ctx.data
    ctx.clear_state()
    ticket = None
    if ticket_id.isdigit() and (data.get("text") or data.get("photo")):
        ticket = await tickets.ticket_for_resident(
            ctx.session, ctx.contact.person.id, ticket_id=int(ticket_id)
        )
    if ticket is None:
        ctx.reply(ctx._("I could not find that feedback among yours."))
        return
    ctx.reply(await add_to_ticket(ctx, ticket, data.get("text") or "", data.get("photo")))


async def own_tickets(ctx: Context) -> tuple[str, list[list[Button]]]:
    """The resident's latest tickets with their status, and an "Add to" button per open one."""
    _ = ctx._
    own = await tickets.tickets_of_resident(ctx.session, ctx.contact.person.id, MAX_LISTED)
    if not own:
        return _("You have not sent any feedback yet."), [
            [Button(_("Send feedback"), "cmd:gopy")],
            [Button(_("Main menu"), "menu")],
        ]
    lines = [_("Your feedback:")]
    rows: list[list[Button]] = []
    for t in own:
        name = category_name(category(ctx.settings, t.category), ctx.locale, t.category)
        lines.append(
            f"{t.code} · {local_date(t.created_at, ctx.locale)} · {name} · {status_label(_, t)}"
        )
        if t.status in tickets.OPEN_STATUSES:
            rows.append([Button(_("Add to {code}").format(code=t.code), f"fb:add:{t.id}")])
    rows.append([Button(_("Main menu"), "menu")])
    return "\n".join(lines), rows


async def rate(ctx: Context, ticket_id: str, stars: str) -> None:
    """1–5 stars for one's own closed ticket, once; then an optional comment."""
    _ = ctx._
    if not stars.isdigit() or int(stars) not in STARS:
        ctx.reply(_("Please reply with a number from 1 to 5."))
        return
    ticket = None
    if ticket_id.isdigit():
        ticket = await tickets.ticket_for_resident(
            ctx.session, ctx.contact.person.id, ticket_id=int(ticket_id)
        )
    if ticket is None:
        ctx.clear_state()
        ctx.reply(_("I could not find that feedback among yours."))
        return
    if ticket.status not in ("closed", "duplicate"):
        ctx.clear_state()
        ctx.reply(_("You can rate feedback {code} once it is closed.").format(code=ticket.code))
        return
    if ticket.rating is not None:
        ctx.clear_state()
        ctx.reply(_("You have already rated {code}. Thank you!").format(code=ticket.code))
        return
    ticket.rating, ticket.rated_at = int(stars), ctx.now
    await tickets.add_event(
        ctx.session, ticket, actor="resident", action="rated", now=ctx.now, detail=stars
    )
    await staff_notices.rating_to_staff(ctx, ticket)
    ctx.set_state(COMMENT, ticket=ticket.id, menu=None)
    ctx.reply(
        _(
            "Thank you for rating {code}: {stars} of 5. Would you like to add a comment? Type it, "
            "or tap Skip."
        ).format(code=ticket.code, stars=stars),
        [[Button(_("Skip"), "fb:skip")]],
    )


async def comment(ctx: Context, ticket_id: str, text: str) -> None:
    ctx.clear_state()
    ticket = None
    if ticket_id.isdigit():
        ticket = await tickets.ticket_for_resident(
            ctx.session, ctx.contact.person.id, ticket_id=int(ticket_id)
        )
    if ticket is None or not text:
        ctx.reply(ctx._("Thank you for your rating!"), [[Button(ctx._("Main menu"), "menu")]])
        return
    ticket.rating_comment = text[:MAX_COMMENT_CHARS]
    await tickets.add_event(ctx.session, ticket, actor="resident", action="commented", now=ctx.now)
    await staff_notices.comment_to_staff(ctx, ticket)
    ctx.reply(
        ctx._("Thank you, the station will read your comment."),
        [[Button(ctx._("Main menu"), "menu")]],
    )
