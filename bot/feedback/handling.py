"""What staff do to a ticket: accept, answer, transfer, close, mark duplicate, block the sender,
add an internal note, reopen (the last two from the web console, issue 18).

Each action is recorded in the audit trail with the staff member's configured name; residents
only ever see the station's role ("Cán bộ Trạm Y tế ..."), never a personal account. Each returns
the short confirmation the staff member sees.
"""

from __future__ import annotations

import logging

from bot.config import StaffMember
from bot.context import Context
from bot.feedback import notices
from bot.feedback.categories import category, category_name
from bot.feedback.routing import staff_chat_for
from bot.feedback.sla import WorkingCalendar, accept_hours
from bot.i18n import Gettext
from bot.model import Outbound
from storage import tickets
from storage.models import Ticket

log = logging.getLogger(__name__)
CLOSED = ("closed", "duplicate")


def _closed_note(ctx: Context, ticket: Ticket) -> str:
    return ctx._("Feedback {code} is already closed.").format(code=ticket.code)


async def accept(ctx: Context, ticket: Ticket, member: StaffMember) -> str:
    _ = ctx._
    if ticket.status in CLOSED:
        return _closed_note(ctx, ticket)
    if ticket.status != "new":
        return _("Feedback {code} was already accepted by {name}.").format(
            code=ticket.code, name=ticket.assignee or "?"
        )
    _take(ctx, ticket, member)
    await tickets.add_event(ctx.session, ticket, actor=member.name, action="accepted", now=ctx.now)

    def compose(_: Gettext, t: Ticket) -> Outbound:
        return Outbound(
            text=_(
                "The health station has accepted your feedback {code} and is working on it."
            ).format(code=t.code)
        )

    await notices.tell_residents(
        ctx.services, ctx.session, ticket, compose, f"ticket:{ticket.id}:accepted"
    )
    return _("Feedback {code} accepted by {name}.").format(code=ticket.code, name=member.name)


def _take(ctx: Context, ticket: Ticket, member: StaffMember) -> None:
    ticket.status = "accepted"
    ticket.accepted_at = ctx.now
    ticket.assignee = member.name


async def answer(
    ctx: Context, ticket: Ticket, member: StaffMember, text: str, photo: str | None
) -> str:
    """Relay an answer (and a photo as evidence) to the resident, signed with the station's role."""
    _ = ctx._
    if ticket.status in CLOSED:
        return _closed_note(ctx, ticket)
    if not text and not photo:
        return _("Please write the answer to {code}.").format(code=ticket.code)
    if ticket.status == "new":  # answering is accepting
        _take(ctx, ticket, member)
        await tickets.add_event(
            ctx.session, ticket, actor=member.name, action="accepted", now=ctx.now
        )
    ticket.status = "answered"
    event = await tickets.add_event(
        ctx.session, ticket, actor=member.name, action="answered", now=ctx.now, detail=text or None
    )
    station, source = ctx.settings.station.name, ctx.inbound.channel

    def compose(_: Gettext, t: Ticket) -> Outbound:
        body = _("Answer to your feedback {code}:").format(code=t.code)
        if text:
            body += f"\n\n{text}"
        image = notices.portable_image(photo, source, t.channel)
        if photo and not image:
            body += "\n\n" + _("(The station attached a photo that cannot be shown in this app.)")
        body += "\n\n" + _("— Staff of {station}").format(station=station)
        body += "\n" + _("To add something, reply to this message or type /bosung {code}.").format(
            code=t.code
        )
        return Outbound(text=body, image=image)

    await notices.tell_residents(
        ctx.services, ctx.session, ticket, compose, f"ticket:{ticket.id}:answer:{event.id}"
    )
    return _("Your answer to {code} is on its way to the resident.").format(code=ticket.code)


async def transfer(ctx: Context, ticket: Ticket, member: StaffMember, code: str) -> str:
    """Move a ticket to another category (and that category's staff chat)."""
    _ = ctx._
    if ticket.status in CLOSED:
        return _closed_note(ctx, ticket)
    cat = category(ctx.settings, code)
    if cat is None:
        return _("Unknown category {code}.").format(code=code[:32])
    old_chat, old_category = ticket.staff_chat, ticket.category
    ticket.category, ticket.urgency = cat.code, cat.urgency
    if ticket.status == "new" and ticket.created_at is not None:
        cal = WorkingCalendar.from_settings(ctx.settings)
        ticket.accept_due = cal.add_working_hours(
            ticket.created_at, accept_hours(ctx.settings, cat.urgency)
        )
    chat = staff_chat_for(ctx.settings, cat)
    event = await tickets.add_event(
        ctx.session,
        ticket,
        actor=member.name,
        action="transferred",
        now=ctx.now,
        detail=f"{old_category} -> {cat.code}",
    )
    name = category_name(cat, ctx.locale)
    if chat is not None and chat.key != old_chat:
        ticket.staff_chat, ticket.staff_message_id = chat.key, None
        heading = _("Transferred to you by {name}").format(name=member.name)
        await notices.send_staff_card(
            ctx.services,
            ctx.session,
            ticket,
            ctx.now,
            key=f"ticket:{ticket.id}:moved:{event.id}",
            heading=heading,
        )
        return _("Feedback {code} moved to {category} and sent to its staff chat.").format(
            code=ticket.code, category=name
        )
    return _("Feedback {code} moved to {category}.").format(code=ticket.code, category=name)


async def close(ctx: Context, ticket: Ticket, member: StaffMember) -> str:
    """Close, tell the resident (and those of its duplicates) and ask for a 1–5 rating."""
    _ = ctx._
    if ticket.status in CLOSED:
        return _closed_note(ctx, ticket)
    ticket.status, ticket.closed_at = "closed", ctx.now
    if ticket.accepted_at is None:
        ticket.accepted_at, ticket.assignee = ctx.now, member.name
    await tickets.add_event(ctx.session, ticket, actor=member.name, action="closed", now=ctx.now)

    def compose(_: Gettext, t: Ticket) -> Outbound:
        text = _(
            "The health station has closed your feedback {code}. How satisfied are you with how "
            "it was handled? Tap the stars, or reply with a number from 1 (very unhappy) to "
            "5 (very satisfied)."
        ).format(code=t.code)
        return Outbound(text=text, buttons=notices.rating_buttons(t))

    await notices.tell_residents(
        ctx.services, ctx.session, ticket, compose, f"ticket:{ticket.id}:closed"
    )
    for target in [ticket, *await tickets.duplicates_of(ctx.session, ticket.id)]:
        await notices.prime_rating(ctx.session, target)
    return _("Feedback {code} closed by {name}; the resident was asked to rate it.").format(
        code=ticket.code, name=member.name
    )


async def mark_duplicate(
    ctx: Context, ticket: Ticket, member: StaffMember, original_code: str
) -> str:
    """The resident follows the original ticket: its answers and closing reach them too."""
    _ = ctx._
    original = await tickets.ticket_by_code(ctx.session, original_code)
    while original is not None and original.duplicate_of is not None:
        original = await tickets.ticket_by_id(ctx.session, original.duplicate_of)
    if original is None or original.id == ticket.id or original.station_id != ticket.station_id:
        return _("I could not find the original feedback {code}.").format(code=original_code[:32])
    if ticket.status in CLOSED:
        return _closed_note(ctx, ticket)
    ticket.status, ticket.duplicate_of, ticket.closed_at = "duplicate", original.id, ctx.now
    for dup in await tickets.duplicates_of(ctx.session, ticket.id):
        dup.duplicate_of = original.id  # keep one level: everyone follows the original
    await tickets.add_event(
        ctx.session,
        ticket,
        actor=member.name,
        action="duplicate",
        now=ctx.now,
        detail=original.code,
    )
    await ctx.session.flush()

    def compose(_: Gettext, t: Ticket) -> Outbound:
        return Outbound(
            text=_(
                "Your feedback {code} is about the same matter as {original}, which the health "
                "station is already handling. You will receive its updates here."
            ).format(code=t.code, original=original.code)
        )

    await notices.tell_residents(
        ctx.services, ctx.session, ticket, compose, f"ticket:{ticket.id}:duplicate"
    )
    return _("Feedback {code} marked as a duplicate of {original}.").format(
        code=ticket.code, original=original.code
    )


async def block(ctx: Context, ticket: Ticket, member: StaffMember, *, blocked: bool = True) -> str:
    """Stop (or allow again) the ticket's author filing feedback; staff never learn who it is."""
    _ = ctx._
    person = await tickets.person_of(ctx.session, ticket)
    if person is None:
        return _("The sender of {code} has deleted their data.").format(code=ticket.code)
    person.feedback_blocked = blocked
    await tickets.add_event(
        ctx.session,
        ticket,
        actor=member.name,
        action="blocked" if blocked else "unblocked",
        now=ctx.now,
    )
    log.info("ticket %s: sender %s by staff", ticket.code, "blocked" if blocked else "unblocked")
    if blocked:
        return _("The sender of {code} can no longer send feedback through the bot.").format(
            code=ticket.code
        )
    return _("The sender of {code} may send feedback again.").format(code=ticket.code)


async def add_note(ctx: Context, ticket: Ticket, member: StaffMember, text: str) -> str:
    """An internal note for the staff (the audit trail keeps it); the resident is not told."""
    _ = ctx._
    if not text.strip():
        return _("Please write the note for {code}.").format(code=ticket.code)
    await tickets.add_event(ctx.session, ticket, actor=member.name, action="note", now=ctx.now,
                            detail=text.strip())
    return _("Note added to {code}.").format(code=ticket.code)


async def reopen(ctx: Context, ticket: Ticket, member: StaffMember) -> str:
    """Open a closed ticket again (accepted, by this member); the resident is told."""
    _ = ctx._
    if ticket.status != "closed":
        return _("Feedback {code} is not closed.").format(code=ticket.code)
    ticket.status, ticket.closed_at = "accepted", None
    ticket.assignee = member.name
    event = await tickets.add_event(ctx.session, ticket, actor=member.name, action="reopened",
                                    now=ctx.now)

    def compose(_: Gettext, t: Ticket) -> Outbound:
        return Outbound(text=_(
            "The health station has reopened your feedback {code} and is working on it again."
        ).format(code=t.code))

    await notices.tell_residents(
        ctx.services, ctx.session, ticket, compose, f"ticket:{ticket.id}:reopened:{event.id}"
    )
    return _("Feedback {code} reopened by {name}.").format(code=ticket.code, name=member.name)
