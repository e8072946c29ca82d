"""Filing a ticket and adding to it: limits, deadlines, routing, and the staff notification.

`file_ticket` writes the ticket and the staff card's outbox row in the handler's transaction, so
the resident only sees the code once both are committed together (a crash loses neither alone).
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Any

from bot.context import Context
from bot.feedback import notices
from bot.feedback.categories import category, category_name
from bot.feedback.routing import staff_chat_for
from bot.feedback.sla import deadlines_for
from bot.i18n import TIMEZONE, Gettext, gettext_for, local_datetime
from storage import tickets
from storage.models import Ticket

log = logging.getLogger(__name__)
MAX_ADDITIONS = 20  # per ticket: each one is posted in the staff chat


def start_of_local_day(now: datetime) -> datetime:
    local = now.astimezone(TIMEZONE)
    return datetime.combine(local.date(), time(0, 0), tzinfo=TIMEZONE)


async def refusal(ctx: Context) -> str | None:
    """Why this resident may not file now (blocked, daily limit), politely; None if they may."""
    _ = ctx._
    phone = ctx.settings.station.phone
    if ctx.contact.person.feedback_blocked:
        return _(
            "Sorry, you cannot send feedback through the bot at the moment. "
            "Please contact the health station at {phone}."
        ).format(phone=phone)
    limit = ctx.settings.feedback.max_tickets_per_day
    filed = await tickets.filed_since(
        ctx.session, ctx.contact.person.id, start_of_local_day(ctx.now)
    )
    if filed >= limit:
        return _(
            "You have already sent {count} feedback messages today, the most we accept in one "
            "day. Please try again tomorrow, or call the health station at {phone}."
        ).format(count=filed, phone=phone)
    return None


def too_long(ctx: Context, text: str) -> str | None:
    limit = ctx.settings.feedback.max_text_chars
    if len(text) <= limit:
        return None
    return ctx._(
        "Your description is too long ({count} characters). Please keep it under {limit} "
        "characters."
    ).format(count=len(text), limit=limit)


async def file_ticket(ctx: Context, draft: dict[str, Any]) -> Ticket:
    """Create the ticket from the reviewed draft and queue its staff card (same transaction)."""
    settings, now = ctx.settings, ctx.now
    cat = category(settings, draft["category"])
    urgency = cat.urgency if cat else "normal"
    due = deadlines_for(settings, urgency, now)
    chat = staff_chat_for(settings, cat)
    anonymous = bool(draft.get("anonymous"))
    new = tickets.NewTicket(
        person_id=ctx.contact.person.id,
        channel=ctx.inbound.channel,
        chat_id=ctx.inbound.chat_id,
        category=draft["category"],
        urgency=urgency,
        text=draft["text"],
        photo=draft.get("photo"),
        latitude=draft.get("lat"),
        longitude=draft.get("lon"),
        phone=None if anonymous else draft.get("phone"),
        anonymous=anonymous,
        area_code=ctx.contact.person.area_code or ctx.contact.chat.area_code,
        staff_chat=chat.key if chat else None,
        station_id=ctx.station_id,
    )
    ticket = await tickets.open_ticket(
        ctx.session,
        new,
        year=now.astimezone(TIMEZONE).year,
        now=now,
        accept_due=due.accept_due,
        resolve_due=due.resolve_due,
    )
    await notices.send_staff_card(
        ctx.services, ctx.session, ticket, now, key=f"ticket:{ticket.id}:new"
    )
    if chat is None:
        log.warning("ticket %s has no staff chat: configure feedback.staff_chat", ticket.code)
    log.info("ticket %s filed (category %s, %s)", ticket.code, ticket.category, urgency)
    return ticket


async def add_to_ticket(ctx: Context, ticket: Ticket, text: str, photo: str | None) -> str:
    """A resident adds information to their open ticket; staff see it under the card."""
    _ = ctx._
    if ticket.status not in tickets.OPEN_STATUSES:
        return _("Feedback {code} is already closed. To raise something new, send /gopy.").format(
            code=ticket.code
        )
    if not text and not photo:
        return _("Please type what you would like to add.")
    if await tickets.count_events(ctx.session, ticket.id, "added") >= MAX_ADDITIONS:
        return _(
            "Feedback {code} already has many additions. Please wait for the station's answer, "
            "or call the station at {phone}."
        ).format(code=ticket.code, phone=ctx.settings.station.phone)
    staff_locale = notices.staff_locale(ctx.services)
    if text:
        addition = f"\n\n[{_added_label(staff_locale, ctx.now)}] {text}"
        if len(ticket.text) + len(addition) > ctx.settings.feedback.max_text_chars * 2:
            return _("Your feedback is already very long. Please call the station instead.")
        ticket.text += addition
    if photo and not ticket.photo:
        ticket.photo = photo
    event = await tickets.add_event(
        ctx.session, ticket, actor="resident", action="added", now=ctx.now
    )
    note = _staff_note(staff_locale, ticket)
    await notices.send_to_staff_chat(
        ctx.services,
        ctx.session,
        ticket,
        f"{note}\n\n{text}" if text else note,
        key=f"ticket:{ticket.id}:added:{event.id}",
        image=photo,
    )
    return _("Thank you, I have added this to your feedback {code}.").format(code=ticket.code)


def _added_label(locale: str, now: datetime) -> str:
    _ = gettext_for(locale)
    return _("Added {time}").format(time=local_datetime(now, locale))


def _staff_note(locale: str, ticket: Ticket) -> str:
    _ = gettext_for(locale)
    return _("The resident added to {code}:").format(code=ticket.code)


def review_text(ctx: Context, data: dict[str, Any]) -> str:
    """The draft as the resident checks it before sending."""
    _ = ctx._
    cat = category(ctx.settings, data["category"])
    lines = [
        _("Please check your feedback:"),
        _("Category: {name}").format(name=category_name(cat, ctx.locale, data["category"])),
        _("Description: {text}").format(text=data["text"]),
    ]
    if data.get("photo"):
        lines.append(_("Photo: attached"))
    if data.get("lat") is not None:
        lines.append(_("Location: attached"))
    if data.get("anonymous"):
        lines.append(_("Sent anonymously: the staff will not see who you are."))
    elif data.get("phone"):
        lines.append(_("Phone for a call back: {phone}").format(phone=data["phone"]))
    else:
        lines.append(_("Without a phone number: the station answers in this chat."))
    return "\n".join(lines)


def status_label(_: Gettext, ticket: Ticket) -> str:
    return {
        "new": _("waiting to be accepted"),
        "accepted": _("being handled"),
        "answered": _("answered"),
        "closed": _("closed"),
        "duplicate": _("merged with another report"),
    }.get(ticket.status, ticket.status)
