"""Feedback tickets (phản ánh, kiến nghị): intent-named queries and changes, with an audit trail.

Every change a person makes goes with `add_event` (who, what, when). Codes are `PA-<year>-<6 digits>`,
numbered per year; a race between two workers is settled by the unique constraint and a retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Outbox, Person, Ticket, TicketEvent

CODE_PREFIX = "PA"
CODE_DIGITS = 6
CODE_RETRIES = 5
OPEN_STATUSES = ("new", "accepted", "answered")
CLOSED_STATUSES = ("closed", "duplicate")
MAX_EVENT_DETAIL = 500


@dataclass(frozen=True)
class NewTicket:
    """What the resident gave; the repository adds the code, times and status."""

    person_id: int | None
    channel: str
    chat_id: str
    category: str
    urgency: str
    text: str
    photo: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    phone: str | None = None
    anonymous: bool = False
    area_code: str | None = None
    staff_chat: str | None = None


def code_for(year: int, number: int) -> str:
    return f"{CODE_PREFIX}-{year}-{number:0{CODE_DIGITS}d}"


async def _next_number(session: AsyncSession, year: int) -> int:
    prefix = f"{CODE_PREFIX}-{year}-"
    stmt = select(func.max(Ticket.code)).where(Ticket.code.like(f"{prefix}%"))
    highest = (await session.execute(stmt)).scalar_one_or_none()
    return int(highest[len(prefix) :]) + 1 if highest else 1


async def open_ticket(
    session: AsyncSession,
    new: NewTicket,
    *,
    year: int,
    now: datetime,
    accept_due: datetime,
    resolve_due: datetime,
) -> Ticket:
    """Insert a ticket with the next code of `year` (local year) and record who filed it."""
    for _attempt in range(CODE_RETRIES):
        number = await _next_number(session, year)
        ticket = Ticket(
            code=code_for(year, number),
            status="new",
            accept_due=accept_due,
            resolve_due=resolve_due,
            created_at=now,
            **new.__dict__,
        )
        try:
            async with session.begin_nested():
                session.add(ticket)
                await session.flush()
        except IntegrityError:  # another worker took this number first
            continue
        await add_event(session, ticket, actor="resident", action="filed", now=now)
        return ticket
    raise RuntimeError("could not allocate a ticket code")


async def add_event(
    session: AsyncSession,
    ticket: Ticket,
    *,
    actor: str,
    action: str,
    now: datetime,
    detail: str | None = None,
) -> TicketEvent:
    """Append one line to the ticket's audit trail."""
    event = TicketEvent(
        ticket_id=ticket.id,
        actor=actor[:64],
        action=action[:32],
        detail=detail[:MAX_EVENT_DETAIL] if detail else None,
        created_at=now,
    )
    session.add(event)
    await session.flush()
    return event


async def events(session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    stmt = select(TicketEvent).filter_by(ticket_id=ticket_id).order_by(TicketEvent.id)
    return list((await session.execute(stmt)).scalars().all())


async def count_events(session: AsyncSession, ticket_id: int, action: str) -> int:
    stmt = select(func.count()).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.action == action
    )
    return int((await session.execute(stmt)).scalar_one())


async def ticket_by_id(session: AsyncSession, ticket_id: int) -> Ticket | None:
    return await session.get(Ticket, ticket_id)


async def ticket_by_code(session: AsyncSession, code: str) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.code == code.strip().upper())
    return (await session.execute(stmt)).scalar_one_or_none()


async def ticket_for_resident(
    session: AsyncSession, person_id: int, *, code: str | None = None, ticket_id: int | None = None
) -> Ticket | None:
    """The resident's own ticket by code or id; another resident's ticket is simply not found."""
    stmt = select(Ticket).where(Ticket.person_id == person_id)
    if code is not None:
        stmt = stmt.where(Ticket.code == code.strip().upper())
    elif ticket_id is not None:
        stmt = stmt.where(Ticket.id == ticket_id)
    else:
        return None
    return (await session.execute(stmt)).scalar_one_or_none()


async def tickets_of_resident(
    session: AsyncSession, person_id: int, limit: int = 10
) -> list[Ticket]:
    stmt = (
        select(Ticket)
        .where(Ticket.person_id == person_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars().all())


async def open_tickets_of_resident(session: AsyncSession, person_id: int) -> list[Ticket]:
    stmt = (
        select(Ticket)
        .where(Ticket.person_id == person_id, Ticket.status.in_(OPEN_STATUSES))
        .order_by(Ticket.id)
    )
    return list((await session.execute(stmt)).scalars().all())


async def filed_since(session: AsyncSession, person_id: int, since: datetime) -> int:
    """How many tickets a resident filed since a moment (the daily limit)."""
    stmt = select(func.count()).where(Ticket.person_id == person_id, Ticket.created_at >= since)
    return int((await session.execute(stmt)).scalar_one())


async def ticket_by_sent_message(
    session: AsyncSession, channel: str, chat_id: str, message_id: str
) -> Ticket | None:
    """The ticket an outbox message (a staff card, an answer) was about, by its platform id."""
    stmt = (
        select(Outbox.ticket_id)
        .where(
            Outbox.channel == channel,
            Outbox.chat_id == chat_id,
            Outbox.sent_message_id == message_id,
            Outbox.ticket_id.is_not(None),
        )
        .limit(1)
    )
    ticket_id = (await session.execute(stmt)).scalar_one_or_none()
    if ticket_id is None:
        stmt2 = select(Ticket).where(
            Ticket.staff_chat == f"{channel}:{chat_id}", Ticket.staff_message_id == message_id
        )
        return (await session.execute(stmt2)).scalars().first()
    return await session.get(Ticket, ticket_id)


async def remember_staff_message(session: AsyncSession, ticket: Ticket) -> None:
    """Copy the platform id of the ticket's staff card from the outbox once it was sent."""
    if ticket.staff_message_id or not ticket.staff_chat:
        return
    channel, _sep, chat_id = ticket.staff_chat.partition(":")
    stmt = (
        select(Outbox.sent_message_id)
        .where(
            Outbox.ticket_id == ticket.id,
            Outbox.channel == channel,
            Outbox.chat_id == chat_id,
            Outbox.sent_message_id.is_not(None),
        )
        .order_by(Outbox.id)  # the card (or its photo) is the first message in that chat
        .limit(1)
    )
    ticket.staff_message_id = (await session.execute(stmt)).scalar_one_or_none()


async def duplicates_of(session: AsyncSession, ticket_id: int) -> list[Ticket]:
    stmt = select(Ticket).where(Ticket.duplicate_of == ticket_id).order_by(Ticket.id)
    return list((await session.execute(stmt)).scalars().all())


async def needing_sweep(
    session: AsyncSession, now: datetime, *, after_id: int = 0, limit: int | None = None
) -> list[Ticket]:
    """Open tickets past a deadline that still lack a reminder or an escalation, by id."""
    late = or_(
        (Ticket.status == "new") & (Ticket.accept_due <= now),
        Ticket.resolve_due <= now,
    )
    stmt = (
        select(Ticket)
        .where(
            Ticket.id > after_id,
            Ticket.status.in_(OPEN_STATUSES),
            late,
            or_(Ticket.reminded_at.is_(None), Ticket.escalated_at.is_(None)),
        )
        .order_by(Ticket.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars().all())


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    if ticket.status not in OPEN_STATUSES:
        return False
    if ticket.status == "new" and ticket.accept_due is not None and ticket.accept_due <= now:
        return True
    return ticket.resolve_due is not None and ticket.resolve_due <= now


async def list_tickets(
    session: AsyncSession,
    *,
    status: str | None = None,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Ticket]:
    """Tickets for the desk: `status` open | overdue | closed (None: all), filed in [start, end)."""
    stmt = select(Ticket).order_by(Ticket.created_at, Ticket.id)
    if status in ("open", "overdue"):
        stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
    elif status == "closed":
        stmt = stmt.where(Ticket.status.in_(CLOSED_STATUSES))
    if start is not None:
        stmt = stmt.where(Ticket.created_at >= start)
    if end is not None:
        stmt = stmt.where(Ticket.created_at < end)
    rows = list((await session.execute(stmt)).scalars().all())
    if status == "overdue":
        rows = [t for t in rows if is_overdue(t, now)]
    return rows


async def person_of(session: AsyncSession, ticket: Ticket) -> Person | None:
    return await session.get(Person, ticket.person_id) if ticket.person_id else None


def as_row(ticket: Ticket) -> dict[str, Any]:
    """A ticket as plain values (for JSON and spreadsheets); without the author's identity."""
    return {
        "code": ticket.code,
        "category": ticket.category,
        "urgency": ticket.urgency,
        "status": ticket.status,
        "channel": ticket.channel,
        "area": ticket.area_code,
        "anonymous": ticket.anonymous,
        "created_at": ticket.created_at,
        "accept_due": ticket.accept_due,
        "accepted_at": ticket.accepted_at,
        "resolve_due": ticket.resolve_due,
        "closed_at": ticket.closed_at,
        "assignee": ticket.assignee,
        "rating": ticket.rating,
        "text": ticket.text,
    }
