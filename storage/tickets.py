"""Feedback tickets (phản ánh, kiến nghị): intent-named queries and changes, with an audit trail.

Every change a person makes goes with `add_event` (who, what, when). Codes are `PA-<year>-<6 digits>`,
numbered per year.

The allocator's promise: concurrent filings (many residents, several workers) each get their own
code, none fails and none is lost. The number comes from one counter row per series
(`ticket_counters`), incremented by a single `INSERT … ON CONFLICT DO UPDATE … RETURNING` in the
filing's own transaction: PostgreSQL holds that row's lock until the filing commits, so the next
filing waits for it instead of colliding; SQLite has one writer at a time anyway. A filing that
rolls back gives its number back with it, so codes have no gaps. Should the counter ever lag the
codes (a restored backup), the unique constraint catches it and the counter is moved past them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Outbox, Person, Ticket, TicketCounter, TicketEvent

CODE_PREFIX = "PA"
CODE_DIGITS = 6
CODE_RESYNCS = 3  # counter behind the codes (a restored backup): move it past them, try again
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
    station_id: int = 1  # stations (issue 21)


def code_for(year: int, number: int) -> str:
    return f"{CODE_PREFIX}-{year}-{number:0{CODE_DIGITS}d}"


def _take_number_statement(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = TicketCounter.__table__
    stmt = insert(table).values(series=bindparam("series"), last_number=bindparam("first"))
    return stmt.on_conflict_do_update(
        index_elements=[table.c.series],
        set_={"last_number": table.c.last_number + 1},
    ).returning(table.c.last_number)


_TAKE_NUMBER = {d: _take_number_statement(d) for d in ("postgresql", "sqlite")}


async def _highest_code_number(session: AsyncSession, series: str) -> int:
    prefix = f"{series}-"
    stmt = select(func.max(Ticket.code)).where(Ticket.code.like(f"{prefix}%"))
    highest = (await session.execute(stmt)).scalar_one_or_none()
    return int(highest[len(prefix) :]) if highest else 0


async def _take_number(session: AsyncSession, series: str) -> int:
    """The next number of `series`; the counter row stays locked until the caller commits."""
    stmt = _TAKE_NUMBER[session.get_bind().dialect.name]
    connection = await session.connection()
    first = await _highest_code_number(session, series) + 1
    return int((await connection.execute(stmt, {"series": series, "first": first})).scalar_one())


async def _move_counter_past_codes(session: AsyncSession, series: str) -> None:
    highest = await _highest_code_number(session, series)
    counter = await session.get(TicketCounter, series)
    if counter is not None and counter.last_number < highest:
        counter.last_number = highest
        await session.flush()


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
    series = f"{CODE_PREFIX}-{year}"
    for _attempt in range(CODE_RESYNCS + 1):
        ticket = Ticket(
            status="new",
            accept_due=accept_due,
            resolve_due=resolve_due,
            created_at=now,
            **new.__dict__,
        )
        try:
            async with session.begin_nested():
                ticket.code = code_for(year, await _take_number(session, series))
                session.add(ticket)
                await session.flush()
        except IntegrityError:  # the counter lagged behind existing codes
            await _move_counter_past_codes(session, series)
            continue
        await add_event(session, ticket, actor="resident", action="filed", now=now)
        return ticket
    raise RuntimeError(f"ticket counter {series} is behind its codes and could not be moved")


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
    stations: Collection[int] | None = None,
) -> list[Ticket]:
    """Tickets for the desk: `status` open | overdue | closed (None: all), filed in [start, end),
    of the given stations (None: every station)."""
    stmt = select(Ticket).order_by(Ticket.created_at, Ticket.id)
    if stations is not None:
        stmt = stmt.where(Ticket.station_id.in_(list(stations)))
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
