"""The morning digest's seeded day, shared by its Telegram and Zalo tests: four tickets (a new
one already overdue, one due today, one rated yesterday, one rated days ago) and a broadcast
scheduled two hours ahead."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.models import BroadcastRecord, Ticket


async def seed_digest_day(services: object, now: datetime, *, channel: str, chat_prefix: str,
                          rating: tuple[int, str], old_rating: int, old_days: int,
                          broadcast: str) -> None:
    """Tickets PA-2026-000001..4 on `channel` and one scheduled broadcast, as of `now`."""

    def ticket(n: int, **kw: object) -> Ticket:
        base = dict(code=f"PA-2026-{n:06d}", channel=channel, chat_id=f"{chat_prefix}{n}",
                    category="other", text="…", status="new",
                    accept_due=now + timedelta(hours=5),
                    resolve_due=now + timedelta(days=5), created_at=now)
        return Ticket(**(base | kw))

    stars, comment = rating
    async with services.db.sessions() as session, session.begin():  # type: ignore[attr-defined]
        session.add_all([
            ticket(1, accept_due=now - timedelta(hours=2)),  # overdue
            ticket(2, status="accepted", resolve_due=now + timedelta(hours=3)),  # due today
            ticket(3, status="closed", rating=stars, rating_comment=comment,
                   rated_at=now - timedelta(hours=20)),
            ticket(4, status="closed", rating=old_rating, rated_at=now - timedelta(days=old_days)),
        ])
        session.add(BroadcastRecord(kind="staff", created_by="Chị Lan", text=broadcast,
                                    audience={"kind": "all"}, status="scheduled",
                                    scheduled_at=now + timedelta(hours=2)))
