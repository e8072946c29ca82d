"""Feedback figures for a period: how many, by category, on time, and residents' satisfaction.

Satisfaction rate = ratings of 4 or 5 stars / all ratings given in the period (the ward plans'
target is at least 90%). Periods are local (Asia/Ho_Chi_Minh) dates, end exclusive.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import TIMEZONE
from storage.models import Ticket

SATISFIED_MIN_STARS = 4


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=TIMEZONE)


@dataclass(frozen=True)
class Satisfaction:
    ratings: int
    satisfied: int

    @property
    def rate(self) -> float | None:
        """Share of 4–5 star ratings, or None when nobody rated."""
        return self.satisfied / self.ratings if self.ratings else None


@dataclass(frozen=True)
class PeriodReport:
    start: date
    end: date  # exclusive
    filed: int
    by_category: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    accepted_on_time: int = 0
    accepted: int = 0
    resolved_on_time: int = 0
    closed: int = 0
    satisfaction: Satisfaction = Satisfaction(0, 0)


async def satisfaction(session: AsyncSession, start: date, end: date) -> Satisfaction:
    """Ratings given from `start` up to (not including) `end`."""
    stmt = select(Ticket.rating).where(
        Ticket.rating.is_not(None),
        Ticket.rated_at >= local_midnight(start),
        Ticket.rated_at < local_midnight(end),
    )
    ratings = [int(r) for r in (await session.execute(stmt)).scalars().all() if r is not None]
    return Satisfaction(len(ratings), sum(1 for r in ratings if r >= SATISFIED_MIN_STARS))


def month_starts(start: date, end: date) -> list[date]:
    """The first day of every calendar month that overlaps [start, end)."""
    months, day = [], date(start.year, start.month, 1)
    while day < end:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


async def satisfaction_by_month(
    session: AsyncSession, start: date, end: date
) -> list[tuple[date, Satisfaction]]:
    out = []
    for first in month_starts(start, end):
        following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        out.append((first, await satisfaction(session, max(first, start), min(following, end))))
    return out


def on_time(done: datetime | None, due: datetime | None) -> bool:
    return done is not None and (due is None or done <= due)


async def period_report(session: AsyncSession, start: date, end: date) -> PeriodReport:
    """Tickets filed in [start, end): counts, timeliness and the period's satisfaction."""
    stmt = select(Ticket).where(
        Ticket.created_at >= local_midnight(start), Ticket.created_at < local_midnight(end)
    )
    rows = list((await session.execute(stmt)).scalars().all())
    accepted = [t for t in rows if t.accepted_at is not None]
    closed = [t for t in rows if t.status == "closed" and t.closed_at is not None]
    return PeriodReport(
        start=start,
        end=end,
        filed=len(rows),
        by_category=dict(Counter(t.category for t in rows).most_common()),
        by_status=dict(Counter(t.status for t in rows).most_common()),
        accepted=len(accepted),
        accepted_on_time=sum(1 for t in accepted if on_time(t.accepted_at, t.accept_due)),
        closed=len(closed),
        resolved_on_time=sum(1 for t in closed if on_time(t.closed_at, t.resolve_due)),
        satisfaction=await satisfaction(session, start, end),
    )
