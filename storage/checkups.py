"""Check-up sessions, slots and bookings: the station's free yearly check-ups (issue 20).

The promise: a slot is never overbooked, whatever the number of residents booking at once. A place
is taken by one conditional UPDATE (`booked = booked + 1 WHERE booked < capacity`): PostgreSQL
re-checks the condition on the locked row after a concurrent writer commits, SQLite has one writer
at a time (BEGIN IMMEDIATE), so the counter can never pass the capacity. The booking row is
written in the same transaction as the counter, so both or neither exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from content.normalize import fold
from storage.models import CheckupBooking, CheckupSession, CheckupSlot

ACTIVE = ("booked", "attended")
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class SlotView:
    id: int
    starts_at: datetime
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)


async def create_session(
    session: AsyncSession,
    *,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    areas: list[str],
    per_slot: int,
    slot_minutes: int = 30,
    priority_groups: str = "",
    bring: str = "",
    fasting: bool = False,
    created_by: str | None = None,
    station_id: int = 1,
) -> CheckupSession:
    """A session and its slots (`slot_minutes` each, `per_slot` places each) in one go."""
    if ends_at <= starts_at or per_slot < 1 or slot_minutes < 5:
        raise ValueError("a session needs an end after its start and at least one place per slot")
    row = CheckupSession(
        station_id=station_id, starts_at=starts_at, ends_at=ends_at, place=place,
        areas=[a.upper() for a in areas], priority_groups=priority_groups, bring=bring,
        fasting=fasting, created_by=created_by, status="open",
    )  # fmt: skip
    session.add(row)
    await session.flush()
    at = starts_at
    while at < ends_at:
        session.add(CheckupSlot(station_id=station_id, session_id=row.id, starts_at=at,
                                capacity=per_slot, booked=0))
        at += timedelta(minutes=slot_minutes)
    await session.flush()
    return row


async def get_session(session: AsyncSession, session_id: int) -> CheckupSession | None:
    return await session.get(CheckupSession, session_id)


async def upcoming_sessions(
    session: AsyncSession, now: datetime, area: str | None = None, station_id: int = 1
) -> list[CheckupSession]:
    """Open sessions not yet over, soonest first; with `area`, those for that area (or for all)."""
    rows = (await session.execute(
        select(CheckupSession)
        .where(CheckupSession.station_id == station_id, CheckupSession.status == "open",
               CheckupSession.ends_at > now)
        .order_by(CheckupSession.starts_at, CheckupSession.id)
    )).scalars().all()  # fmt: skip
    if area is None:
        return list(rows)
    wanted = area.upper()
    return [r for r in rows if not r.areas or wanted in r.areas]


async def all_sessions(session: AsyncSession, station_id: int = 1) -> list[CheckupSession]:
    return list((await session.execute(
        select(CheckupSession).where(CheckupSession.station_id == station_id)
        .order_by(CheckupSession.starts_at, CheckupSession.id)
    )).scalars().all())  # fmt: skip


async def slots(session: AsyncSession, session_id: int) -> list[SlotView]:
    rows = (await session.execute(
        select(CheckupSlot.id, CheckupSlot.starts_at, CheckupSlot.capacity, CheckupSlot.booked)
        .where(CheckupSlot.session_id == session_id).order_by(CheckupSlot.starts_at)
    )).all()  # fmt: skip
    return [SlotView(*row) for row in rows]


async def slot(session: AsyncSession, slot_id: int) -> CheckupSlot | None:
    return await session.get(CheckupSlot, slot_id)


async def _take_place(session: AsyncSession, slot_id: int) -> bool:
    result = await session.execute(
        update(CheckupSlot)
        .where(CheckupSlot.id == slot_id, CheckupSlot.booked < CheckupSlot.capacity)
        .values(booked=CheckupSlot.booked + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def _give_back(session: AsyncSession, slot_id: int) -> None:
    await session.execute(
        update(CheckupSlot)
        .where(CheckupSlot.id == slot_id, CheckupSlot.booked > 0)
        .values(booked=CheckupSlot.booked - 1)
        .execution_options(synchronize_session=False)
    )


async def active_booking(
    session: AsyncSession, person_id: int, session_id: int | None = None
) -> CheckupBooking | None:
    """The person's booking that is still ahead (of one session, or the soonest of any)."""
    stmt = (
        select(CheckupBooking)
        .join(CheckupSlot, CheckupSlot.id == CheckupBooking.slot_id)
        .where(CheckupBooking.person_id == person_id, CheckupBooking.status == "booked")
        .order_by(CheckupSlot.starts_at)
    )
    if session_id is not None:
        stmt = stmt.where(CheckupBooking.session_id == session_id)
    return (await session.execute(stmt.limit(1))).scalars().first()


async def book(
    session: AsyncSession,
    *,
    slot_id: int,
    person_id: int,
    full_name: str,
    birth_year: int,
    phone: str,
    area_code: str | None,
) -> CheckupBooking | None:
    """Take a place in the slot; None when it is full (nothing written then)."""
    found = await session.get(CheckupSlot, slot_id)
    if found is None or not await _take_place(session, slot_id):
        return None
    row = CheckupBooking(
        station_id=found.station_id, session_id=found.session_id, slot_id=slot_id,
        person_id=person_id, full_name=full_name, birth_year=birth_year, phone=phone,
        area_code=area_code, status="booked",
    )  # fmt: skip
    session.add(row)
    await session.flush()
    return row


async def cancel(session: AsyncSession, booking: CheckupBooking) -> None:
    if booking.status != "booked":
        return
    booking.status = "cancelled"
    await _give_back(session, booking.slot_id)
    await session.flush()


async def move(session: AsyncSession, booking: CheckupBooking, slot_id: int) -> bool:
    """Move to another slot of the same session; False (nothing changed) when it is full."""
    target = await session.get(CheckupSlot, slot_id)
    if target is None or target.session_id != booking.session_id or slot_id == booking.slot_id:
        return False
    if not await _take_place(session, slot_id):
        return False
    await _give_back(session, booking.slot_id)
    booking.slot_id = slot_id
    await session.flush()
    return True


async def bookings_of(session: AsyncSession, session_id: int) -> list[tuple[CheckupBooking, datetime]]:
    """The session's live bookings (booked or attended) with their slot time, in slot order."""
    rows = (await session.execute(
        select(CheckupBooking, CheckupSlot.starts_at)
        .join(CheckupSlot, CheckupSlot.id == CheckupBooking.slot_id)
        .where(CheckupBooking.session_id == session_id, CheckupBooking.status.in_(ACTIVE))
        .order_by(CheckupSlot.starts_at, CheckupBooking.id)
    )).all()  # fmt: skip
    return [(b, at) for b, at in rows]


async def mark_attended(
    session: AsyncSession, booking_id: int, now: datetime
) -> CheckupBooking | None:
    booking = await session.get(CheckupBooking, booking_id)
    if booking is None or booking.status not in ACTIVE:
        return None
    if booking.status != "attended":
        booking.status = "attended"
        booking.attended_at = now
        await session.flush()
    return booking


async def missed(
    session: AsyncSession, now: datetime, areas: list[str], station_id: int = 1
) -> list[tuple[CheckupBooking, CheckupSession]]:
    """Bookings of sessions already over that nobody marked as come (no-shows), in `areas`
    (every area when empty), the person still known; the latest per person."""
    rows = (await session.execute(
        select(CheckupBooking, CheckupSession)
        .join(CheckupSession, CheckupSession.id == CheckupBooking.session_id)
        .where(CheckupBooking.station_id == station_id, CheckupBooking.status == "booked",
               CheckupBooking.person_id.is_not(None), CheckupSession.ends_at <= now)
        .order_by(CheckupSession.starts_at.desc(), CheckupBooking.id.desc())
    )).all()  # fmt: skip
    wanted = {a.upper() for a in areas}
    seen: set[int] = set()
    out = []
    for booking, row in rows:
        if booking.person_id in seen:
            continue
        if wanted and (booking.area_code or "").upper() not in wanted:
            continue
        seen.add(booking.person_id)  # type: ignore[arg-type]
        out.append((booking, row))
    return out


# -- who is one person (issue 20): coverage counts people, not visits ---------------------------
# A booking is made from one resident's account (`person_id`), for themselves or a family member,
# so a person is the account + the name as typed (folded) + the birth year. An erased account
# (`person_id` cleared) falls back to the name + birth year + area within the station; erasure
# clears the name too, so such a booking then counts on its own.
_NOT_A_LETTER = re.compile(r"[^\w]+|_", re.UNICODE)
PersonKey = tuple[object, ...]


class BookingLike(Protocol):
    id: int
    station_id: int
    person_id: int | None
    full_name: str | None
    birth_year: int | None
    area_code: str | None


def name_key(full_name: str | None) -> str:
    """The name as compared: no diacritics (đ→d), lower case, punctuation and extra spaces out
    ("  Lê  Thị Một " and "le thi mot" are the same name)."""
    return " ".join(_NOT_A_LETTER.sub(" ", fold(full_name or "")).split())


def person_key(booking: BookingLike) -> PersonKey:
    """Who a booking (a `CheckupBooking` or a row with the same columns) is for: the one key
    every coverage figure counts people by.

    - the account and the person booked for: (person_id, name, birth year), so two family
      members booked from one account are two people;
    - account erased or detached (`person_id` NULL), name still there: (station, name, birth
      year, area);
    - nothing left to tell who it was: the booking itself (it counts as one person)."""
    name = name_key(booking.full_name)
    if booking.person_id is not None:
        return ("person", booking.person_id, name, booking.birth_year)
    if name:
        return ("name", booking.station_id, name, booking.birth_year,
                (booking.area_code or "").upper())
    return ("booking", booking.id)


# -- coverage per area and per priority group (issue 20) ----------------------------------------
# The groups are read from the birth year given at booking, as the age reached in the session's
# year: the Law on the Elderly (39/2009/QH12, art. 2) makes a citizen elderly from 60; the Law on
# Children (102/2016/QH13, art. 1) counts a child under 16. A booking whose birth year was erased
# is "unknown". Sessions record their own priority groups as free text, which cannot be counted.
ELDERLY_FROM_AGE = 60
ADULT_FROM_AGE = 16
AGE_GROUPS = ("elderly", "adult", "child", "unknown")


def age_group(birth_year: int | None, year: int) -> str:
    if not birth_year:
        return "unknown"
    age = year - birth_year
    return "elderly" if age >= ELDERLY_FROM_AGE else "adult" if age >= ADULT_FROM_AGE else "child"


@dataclass
class Coverage:
    """Sessions held, visits (bookings marked as come: a person examined twice is 2) and, per
    area and per age group, distinct people (booked, examined): each person once, in the area
    and group of their latest booking marked as come (or, never come, their latest booking)."""

    sessions_held: int = 0
    visits: int = 0
    by_area: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_group: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def booked(self) -> int:
        """Distinct people with a booking not cancelled (each is in exactly one area)."""
        return sum(b for b, _c in self.by_area.values())

    @property
    def came(self) -> int:
        """Distinct people examined at least once in the period."""
        return sum(c for _b, c in self.by_area.values())


async def coverage_of(
    session: AsyncSession, start: datetime, end: datetime, station_id: int | None = 1
) -> Coverage:
    """Sessions starting in [start, end), not cancelled (`station_id=None`: every station).
    Cancelled bookings never count; "examined" = marked as come by the staff. People are told
    apart by `person_key`; each counts once, where their latest visit was."""
    where = [CheckupSession.starts_at >= start, CheckupSession.starts_at < end,
             CheckupSession.status != "cancelled"]
    if station_id is not None:
        where.append(CheckupSession.station_id == station_id)
    out = Coverage()
    out.sessions_held = int((await session.execute(
        select(func.count()).select_from(CheckupSession).where(*where))).scalar_one())
    rows = (await session.execute(
        select(CheckupBooking.id, CheckupBooking.station_id, CheckupBooking.person_id,
               CheckupBooking.full_name, CheckupBooking.birth_year, CheckupBooking.area_code,
               CheckupBooking.status, CheckupSession.starts_at)
        .join(CheckupSession, CheckupSession.id == CheckupBooking.session_id)
        .where(*where, CheckupBooking.status.in_(ACTIVE))
        .order_by(CheckupSession.starts_at, CheckupBooking.id)
    )).all()  # fmt: skip
    # Per person, the booking that places them: the latest marked as come, else the latest.
    home: dict[PersonKey, Any] = {}
    for row in rows:  # oldest first: a later booking replaces, unless only this one came
        came = row.status == "attended"
        out.visits += came
        key = person_key(row)
        kept = home.get(key)
        if kept is None or came or kept.status != "attended":
            home[key] = row
    areas: dict[str, list[int]] = {}
    groups: dict[str, list[int]] = {g: [0, 0] for g in AGE_GROUPS}
    for row in home.values():
        came = int(row.status == "attended")
        year = row.starts_at.astimezone(LOCAL).year
        for bucket in (areas.setdefault(row.area_code or "-", [0, 0]),
                       groups[age_group(row.birth_year, year)]):
            bucket[0] += 1
            bucket[1] += came
    out.by_area = {a: (v[0], v[1]) for a, v in sorted(areas.items())}
    out.by_group = {g: (v[0], v[1]) for g, v in groups.items() if v[0]}
    return out


# -- editing a session from the staff chat (issue 20) --------------------------------------------


async def _slot_rows(session: AsyncSession, session_id: int) -> list[CheckupSlot]:
    return list((await session.execute(
        select(CheckupSlot).where(CheckupSlot.session_id == session_id)
        .order_by(CheckupSlot.starts_at, CheckupSlot.id))).scalars().all())


async def reschedule(session: AsyncSession, row: CheckupSession, starts_at: datetime,
                     ends_at: datetime, slot_minutes: int = 30) -> bool:
    """Move the session to a new window: every slot keeps its place in the order (shifted by the
    change of start); slots past the new end go if empty, new ones fill a longer window. False,
    with nothing changed, when a booked slot would fall outside the new window."""
    if ends_at <= starts_at:
        return False
    delta = starts_at - row.starts_at
    rows = await _slot_rows(session, row.id)
    if any(s.booked and s.starts_at + delta >= ends_at for s in rows):
        return False
    for s in rows:
        s.starts_at = s.starts_at + delta
        if s.starts_at >= ends_at:
            await session.delete(s)
    kept = [s.starts_at for s in rows if s.starts_at < ends_at]
    at = (max(kept) + timedelta(minutes=slot_minutes)) if kept else starts_at
    capacity = rows[0].capacity if rows else 1
    while at < ends_at:
        session.add(CheckupSlot(station_id=row.station_id, session_id=row.id, starts_at=at,
                                capacity=capacity, booked=0))
        at += timedelta(minutes=slot_minutes)
    row.starts_at, row.ends_at = starts_at, ends_at
    await session.flush()
    return True


async def set_capacity(session: AsyncSession, row: CheckupSession, per_slot: int) -> bool:
    """Places per slot; False (nothing changed) when a slot already has more bookings."""
    rows = await _slot_rows(session, row.id)
    if per_slot < 1 or any(s.booked > per_slot for s in rows):
        return False
    for s in rows:
        s.capacity = per_slot
    await session.flush()
    return True


async def cancel_session(session: AsyncSession, row: CheckupSession) -> list[CheckupBooking]:
    """The session and its live bookings cancelled; returns the bookings that were live."""
    live = [b for b, _at in await bookings_of(session, row.id) if b.status == "booked"]
    for booking in live:
        booking.status = "cancelled"
    row.status = "cancelled"
    await session.flush()
    return live
