"""Satisfaction = ratings of 4–5 stars over all ratings given in the period, per month too."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.feedback.reports import month_starts, period_report, satisfaction, satisfaction_by_month
from storage.db import open_database
from storage.models import Ticket


def ticket(n: int, *, filed: datetime, rating: int | None = None, rated: datetime | None = None,
           status: str = "closed") -> Ticket:  # fmt: skip
    return Ticket(
        code=f"PA-2026-{n:06d}", channel="web", chat_id=f"r{n}", category="waiting", text="…",
        status=status, created_at=filed, accept_due=filed, accepted_at=filed, closed_at=filed,
        resolve_due=filed, rating=rating, rated_at=rated,
    )  # fmt: skip


async def test_satisfaction_rate_per_period_and_month(db_url: str) -> None:
    db = open_database(db_url)
    oct_, nov = datetime(2026, 10, 10, 3, tzinfo=UTC), datetime(2026, 11, 10, 3, tzinfo=UTC)
    async with db.sessions() as session, session.begin():
        session.add_all([
            ticket(1, filed=oct_, rating=5, rated=oct_),
            ticket(2, filed=oct_, rating=2, rated=oct_),
            ticket(3, filed=nov, rating=4, rated=nov),
            ticket(4, filed=nov, rating=5, rated=nov),
            ticket(5, filed=nov, rating=1, rated=nov),
            ticket(6, filed=nov, status="new"),
        ])  # fmt: skip
    async with db.sessions() as session:
        both = await satisfaction(session, date(2026, 10, 1), date(2026, 12, 1))
        assert (both.ratings, both.satisfied, both.rate) == (5, 3, 0.6)
        monthly = await satisfaction_by_month(session, date(2026, 10, 1), date(2026, 12, 1))
        assert [(m.month, s.rate) for m, s in monthly] == [(10, 0.5), (11, 2 / 3)]
        report = await period_report(session, date(2026, 11, 1), date(2026, 12, 1))
        assert report.filed == 4 and report.closed == 3 and report.by_status["new"] == 1
        empty = await satisfaction(session, date(2026, 1, 1), date(2026, 2, 1))
        assert empty.rate is None
    await db.close()


def test_month_starts_cross_the_new_year() -> None:
    assert month_starts(date(2026, 11, 15), date(2027, 1, 2)) == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)
    ]  # fmt: skip
