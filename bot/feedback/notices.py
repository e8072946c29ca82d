"""Messages about a ticket that go out through the outbox: the staff card and resident notices.

Everything is enqueued in the caller's transaction (`services.deliverer`), so a ticket and the
messages about it commit together. Staff read the station's default language; a resident reads
their own. An anonymous ticket's card never names its author: no name, no chat id, no phone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Services
from bot.feedback.categories import category, category_name
from bot.feedback.routing import StaffChat, parse_staff_chat
from bot.feedback.sla import WorkingCalendar
from bot.i18n import Gettext, gettext_for, local_datetime, normalize_locale
from bot.model import Button, Outbound
from storage import tickets
from storage.models import ConversationState, Identity, Ticket

# Telegram puts at most 1024 characters under a photo; a longer card goes as its own message.
MAX_CAPTION = 1000
STAFF_CHANNELS_WITH_BUTTONS = frozenset({"telegram", "web"})
RATINGS = (1, 2, 3, 4, 5)
MAPS_URL = "https://maps.google.com/?q={lat:.6f},{lon:.6f}"


def portable_image(image: str | None, source: str, target: str) -> str | None:
    """An image usable on `target`: platform file ids only work on their own channel, URLs anywhere."""
    if not image:
        return None
    if source == target or image.startswith(("https://", "http://")):
        return image
    return None


def staff_locale(services: Services) -> str:
    return normalize_locale(services.settings.station.default_language)


def format_phone(phone: str) -> str:
    """0912345678 -> '0912 345 678' (easier to read aloud)."""
    if len(phone) == 10:
        return f"{phone[:4]} {phone[4:7]} {phone[7:]}"
    return phone


def working_time_left(_: Gettext, left: timedelta) -> str:
    if left <= timedelta():
        return _("overdue")
    minutes = int(left.total_seconds() // 60)
    return _("{hours} h {minutes} min of working time left").format(
        hours=minutes // 60, minutes=minutes % 60
    )


def staff_buttons(ticket: Ticket, _: Gettext) -> tuple[tuple[Button, ...], ...]:
    tid = ticket.id
    return (
        (Button(_("Accept"), f"tk:acc:{tid}"), Button(_("Reply"), f"tk:ans:{tid}")),
        (Button(_("Transfer"), f"tk:mv:{tid}"), Button(_("Close"), f"tk:close:{tid}")),
        (Button(_("Duplicate"), f"tk:dup:{tid}"), Button(_("Block sender"), f"tk:block:{tid}")),
    )


async def author_line(session: AsyncSession, ticket: Ticket, _: Gettext) -> str:
    """Who filed it, as staff may see it: nothing at all for an anonymous ticket."""
    if ticket.anonymous:
        return _("Sender: anonymous")
    name = None
    if ticket.person_id is not None:
        stmt = select(Identity.display_name).where(
            Identity.person_id == ticket.person_id, Identity.channel == ticket.channel
        )
        name = (await session.execute(stmt)).scalars().first()
    line = _("Sender: {name}").format(name=name or _("(no name)"))
    if ticket.phone:
        line += " · " + _("phone {phone}").format(phone=format_phone(ticket.phone))
    return line


async def staff_card(
    services: Services, session: AsyncSession, ticket: Ticket, now: datetime, *, heading: str = ""
) -> Outbound:
    """The ticket as staff see it: code, category, area, author (if not anonymous), time left."""
    settings = services.settings
    locale = staff_locale(services)
    _ = gettext_for(locale)
    cal = WorkingCalendar.from_settings(settings)
    cat = category(settings, ticket.category)
    area = settings.area(ticket.area_code) if ticket.area_code else None
    title = _("Feedback {code}").format(code=ticket.code)
    if ticket.urgency == "urgent":
        title += " – " + _("URGENT")
    lines = [heading, title] if heading else [title]
    lines.append(_("Category: {name}").format(name=category_name(cat, locale, ticket.category)))
    lines.append(_("Area: {area}").format(area=area.name if area else _("not given")))
    lines.append(await author_line(session, ticket, _))
    if ticket.latitude is not None and ticket.longitude is not None:
        url = MAPS_URL.format(lat=ticket.latitude, lon=ticket.longitude)
        lines.append(_("Location: {url}").format(url=url))
    if ticket.status == "new" and ticket.accept_due is not None:
        left = cal.working_time_between(now, ticket.accept_due)
        lines.append(
            _("Accept by {due} ({left})").format(
                due=local_datetime(ticket.accept_due, locale), left=working_time_left(_, left)
            )
        )
    if ticket.resolve_due is not None:
        left = cal.working_time_between(now, ticket.resolve_due)
        lines.append(
            _("Resolve by {due} ({left})").format(
                due=local_datetime(ticket.resolve_due, locale), left=working_time_left(_, left)
            )
        )
    chat = parse_staff_chat(ticket.staff_chat or "", settings)
    if ticket.photo and chat and not portable_image(ticket.photo, ticket.channel, chat.channel):
        lines.append(_("Photo: sent in another chat app, it cannot be shown here."))
    text = "\n".join(lines) + "\n\n" + ticket.text
    if chat is not None and chat.channel in STAFF_CHANNELS_WITH_BUTTONS:
        return Outbound(text=text, buttons=staff_buttons(ticket, _))
    hint = _(
        "Commands: /tiepnhan {code} (accept), /traloi {code} <answer>, /chuyen {code} <category>, "
        "/dong {code} (close), /trung {code} <original code>, /chan {code} (block sender)"
    ).format(code=ticket.code)
    return Outbound(text=f"{text}\n\n{hint}")


async def send_staff_card(
    services: Services,
    session: AsyncSession,
    ticket: Ticket,
    now: datetime,
    *,
    key: str,
    heading: str = "",
    chat: StaffChat | None = None,
) -> None:
    """Post the card (and the resident's photo) to the ticket's staff chat, deduplicated on `key`."""
    chat = chat or parse_staff_chat(ticket.staff_chat or "", services.settings)
    if chat is None or services.deliverer is None:
        return
    card = await staff_card(services, session, ticket, now, heading=heading)
    image = portable_image(ticket.photo, ticket.channel, chat.channel)
    if image and len(card.text) > MAX_CAPTION:
        # The photo first on its own, so the card with the buttons is one message to reply to.
        photo = Outbound(text=ticket.code or "", image=image)
        await _enqueue(services, session, chat, photo, f"{key}:photo", ticket)
    elif image:
        card = Outbound(text=card.text, buttons=card.buttons, image=image)
    await _enqueue(services, session, chat, card, key, ticket)


async def send_to_staff_chat(
    services: Services,
    session: AsyncSession,
    ticket: Ticket,
    text: str,
    key: str,
    image: str | None = None,
) -> None:
    """A short note about a ticket in its staff chat, as a reply to the card when it is known."""
    chat = parse_staff_chat(ticket.staff_chat or "", services.settings)
    if chat is None or services.deliverer is None:
        return
    await tickets.remember_staff_message(session, ticket)
    image = portable_image(image, ticket.channel, chat.channel)
    if chat.channel == "telegram":
        message = Outbound(text=text, image=image, reply_to_message_id=ticket.staff_message_id)
    else:
        message = Outbound(text=text, image=image)
    await _enqueue(services, session, chat, message, key, ticket)


async def _enqueue(
    services: Services,
    session: AsyncSession,
    chat: StaffChat,
    message: Outbound,
    key: str,
    ticket: Ticket,
) -> None:
    assert services.deliverer is not None
    await services.deliverer.enqueue(
        session,
        channel=chat.channel,
        chat_id=chat.chat_id,
        message=message,
        dedupe_key=key,
        chat_kind=chat.kind,
        ticket_id=ticket.id,
    )


async def resident_locale(session: AsyncSession, ticket: Ticket) -> str:
    person = await tickets.person_of(session, ticket)
    return normalize_locale(person.locale if person else None)


Compose = Callable[[Gettext, Ticket], Outbound]


async def tell_residents(
    services: Services, session: AsyncSession, ticket: Ticket, compose: Compose, key: str
) -> int:
    """Notify the ticket's author and the authors of its duplicates, each in their own language."""
    if services.deliverer is None:
        return 0
    told = 0
    for target in [ticket, *await tickets.duplicates_of(session, ticket.id)]:
        if not target.chat_id:  # the author erased their data
            continue
        locale = await resident_locale(session, target)
        message = compose(gettext_for(locale), target)
        await services.deliverer.enqueue(
            session,
            channel=target.channel,
            chat_id=target.chat_id,
            message=message,
            dedupe_key=f"{key}:to:{target.id}",
            chat_kind="private",
            ticket_id=target.id,
        )
        told += 1
    return told


def rating_buttons(ticket: Ticket) -> tuple[tuple[Button, ...], ...]:
    return (tuple(Button("★" * n, f"fb:rate:{ticket.id}:{n}") for n in RATINGS),)


async def prime_rating(session: AsyncSession, ticket: Ticket) -> None:
    """Let a resident rate by typing 1–5 on channels without buttons, if they are not mid-flow."""
    stmt = select(ConversationState).where(
        ConversationState.channel == ticket.channel, ConversationState.chat_id == ticket.chat_id
    )
    for state in (await session.execute(stmt)).scalars().all():
        if state.state in ("", "feedback.rate"):
            state.state = "feedback.rate"
            state.data = {
                "ticket": ticket.id,
                "menu": [b.data for row in rating_buttons(ticket) for b in row],
            }
