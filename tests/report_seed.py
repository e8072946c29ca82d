"""A hand-counted half year of recorded facts for the periodic report's tests (issue 17).

Every row is what the bot would have recorded; the expected figures for 2026-H1 (local dates,
Asia/Ho_Chi_Minh) are counted by hand in `EXPECTED` and explained next to each row. Rows just
outside the period (the day before, the first local minutes of 1/7) check the boundaries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    BroadcastRecord,
    Chat,
    Identity,
    Outbox,
    Person,
    Reminder,
    ReportFact,
    Subscription,
    Ticket,
)

VN = timezone(timedelta(hours=7))
TOPIC_OF = {"msg-vaccine": "vaccination"}


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN).astimezone(UTC)


async def seed(session: AsyncSession) -> dict[str, int]:
    # -- residents: P1 before the period, P2 and P3 during it, P4 in the first minutes of H2.
    p1, p2, p3, p4 = (Person(area_code="TDP1"), Person(area_code="TDP2"), Person(area_code="TDP1"),
                      Person(area_code=None))
    session.add_all([p1, p2, p3, p4])
    await session.flush()
    session.add_all([
        Identity(person_id=p1.id, channel="telegram", external_id="u1",
                 created_at=local(2025, 12, 15), last_inbound_at=local(2025, 12, 20)),
        Identity(person_id=p2.id, channel="zalo_oa", external_id="u2",
                 created_at=local(2026, 2, 1), last_inbound_at=local(2026, 3, 10)),
        Identity(person_id=p3.id, channel="web", external_id="u3",
                 created_at=local(2026, 5, 1), last_inbound_at=local(2026, 6, 30, 23, 30)),
        Identity(person_id=p4.id, channel="telegram", external_id="u4",
                 created_at=local(2026, 7, 1, 0, 30), last_inbound_at=local(2026, 7, 1, 0, 30)),
        Subscription(person_id=p1.id, topic="vaccination", created_at=local(2025, 12, 20)),
        Subscription(person_id=p1.id, topic="dengue", created_at=local(2026, 1, 3)),
        Subscription(person_id=p2.id, topic="vaccination", created_at=local(2026, 2, 1)),
        Subscription(person_id=p4.id, topic="vaccination", created_at=local(2026, 7, 1, 0, 40)),
        Chat(channel="telegram", external_id="t1", kind="private", area_code="TDP1",
             person_id=p1.id),
        Chat(channel="zalo_oa", external_id="z2", kind="private", area_code="TDP2",
             person_id=p2.id),
        Chat(channel="telegram", external_id="g1", kind="group", area_code="TDP1",
             title="Tổ dân phố 1"),
    ])  # fmt: skip

    # -- broadcasts and their outbox rows
    def bc(kind: str, at: datetime, status: str = "queued", **kw: object) -> BroadcastRecord:
        return BroadcastRecord(kind=kind, scheduled_at=at, status=status, created_at=at, **kw)

    b1 = bc("campaign", local(2026, 1, 10, 8), created_by="plan:tiem-chung",
            message_id="msg-vaccine")
    b2 = bc("campaign", local(2026, 3, 10, 8), created_by="plan:tiem-chung",
            message_id="msg-vaccine")
    b3 = bc("staff", local(2026, 5, 5, 8), created_by="Y tá Lan", text="Lịch khám")
    b4 = bc("urgent", local(2026, 6, 1, 9), created_by="Y tá Lan", text="Sốt xuất huyết",
            approved_at=local(2026, 6, 1, 9))
    b5 = bc("staff", local(2026, 6, 2, 8), status="cancelled", created_by="Y tá Lan", text="x")
    b6 = bc("campaign", local(2026, 7, 1, 8), created_by="plan:tiem-chung",
            message_id="msg-vaccine")
    session.add_all([b1, b2, b3, b4, b5, b6])
    await session.flush()
    n = iter(range(1, 1000))

    def row(b: BroadcastRecord | None, chat: str, status: str, *, kind: str = "private",
            channel: str = "telegram", error: str | None = None,
            sent: datetime | None = None) -> Outbox:
        at = b.scheduled_at if b else local(2026, 4, 1)
        return Outbox(dedupe_key=f"k{next(n)}", channel=channel, chat_id=chat, chat_kind=kind,
                      payload={"text": "…"}, status=status, last_error=error,
                      broadcast_id=b.id if b else None, created_at=at, not_before=at,
                      sent_at=sent or (at if status == "sent" else None))

    session.add_all([
        row(b1, "t1", "sent"), row(b1, "z2", "sent", channel="zalo_oa"),
        row(b1, "g1", "sent", kind="group"),
        row(b2, "t1", "sent"), row(b2, "z2", "failed", channel="zalo_oa", error="stop:blocked"),
        row(b2, "g1", "failed", kind="group", error="timeout"),
        row(b3, "t1", "sent"),
        row(b4, "t1", "sent", sent=local(2026, 6, 1, 9, 3)),
        row(b4, "g1", "sent", kind="group", sent=local(2026, 6, 1, 9, 5)),
        row(b5, "t1", "cancelled"),
        row(b6, "t1", "sent"),
        row(None, "t1", "sent"),  # a reply, not a broadcast
    ])  # fmt: skip

    # -- questions and opt-outs (report_facts)
    def fact(kind: str, at: datetime, topic: str | None = None, outcome: str | None = None,
             channel: str = "telegram") -> ReportFact:
        return ReportFact(kind=kind, channel=channel, topic=topic, outcome=outcome, created_at=at)

    session.add_all([
        fact("question", local(2026, 1, 2), "vaccination", "answered"),
        fact("question", local(2026, 2, 2), "vaccination", "answered", "zalo_oa"),
        fact("question", local(2026, 3, 2), "vaccination", "answered", "web"),
        fact("question", local(2026, 3, 3), "bhyt", "answered"),
        fact("question", local(2026, 4, 3), None, "unanswered"),
        fact("question", local(2026, 4, 4), None, "unanswered"),
        fact("question", local(2026, 5, 4), "dengue", "unanswered"),
        fact("question", local(2026, 6, 4), "emergency", "red_flag"),
        fact("question", local(2026, 7, 1, 0, 10), "vaccination", "answered"),
        fact("optout", local(2026, 4, 1), "*"),
        fact("optout", local(2025, 12, 31), "dengue"),
    ])  # fmt: skip

    # -- reminders
    def rem(kind: str, sent: datetime | None, due: datetime) -> Reminder:
        return Reminder(person_id=p1.id, kind=kind, due_at=due, sent_at=sent,
                        dedupe_key=f"r{next(n)}")

    session.add_all([
        rem("vaccine", local(2026, 2, 1), local(2026, 2, 1)),
        rem("vaccine", local(2026, 6, 1), local(2026, 6, 1)),
        rem("bhyt", local(2026, 5, 1), local(2026, 5, 1)),
        rem("vaccine", None, local(2026, 6, 20)),
        rem("vaccine", local(2025, 12, 31), local(2025, 12, 31)),
    ])  # fmt: skip

    # -- tickets (T5's sender erased their data: person_id is gone, the ticket still counts)
    def tk(code: int, filed: datetime, category: str, channel: str, status: str, *,
           accepted: datetime | None = None, accept_due: datetime | None = None,
           closed: datetime | None = None, resolve_due: datetime | None = None,
           rating: int | None = None, rated: datetime | None = None,
           person: Person | None = None) -> Ticket:
        return Ticket(code=f"PA-2026-{code:06d}", person_id=person.id if person else None,
                      channel=channel, chat_id=f"c{code}", category=category, text="…",
                      status=status, created_at=filed, accepted_at=accepted,
                      accept_due=accept_due, closed_at=closed, resolve_due=resolve_due,
                      rating=rating, rated_at=rated)

    day = timedelta(days=1)
    t1 = local(2026, 1, 5)
    t2 = local(2026, 2, 10)
    t3 = local(2026, 3, 3)
    t4 = local(2026, 5, 20)
    session.add_all([
        tk(1, t1, "waiting", "telegram", "closed", accepted=t1 + day / 2, accept_due=t1 + day,
           closed=t1 + 3 * day, resolve_due=t1 + 5 * day, rating=5, rated=local(2026, 1, 20),
           person=p1),
        tk(2, t2, "attitude", "zalo_oa", "closed", accepted=t2 + 2 * day, accept_due=t2 + day,
           closed=t2 + 9 * day, resolve_due=t2 + 5 * day, rating=2, rated=local(2026, 2, 28),
           person=p2),
        tk(3, t3, "waiting", "web", "closed", accepted=t3, accept_due=t3 + day,
           closed=t3 + 2 * day, resolve_due=t3 + 5 * day, rating=4, rated=local(2026, 4, 2)),
        tk(4, t4, "hygiene", "telegram", "accepted", accepted=t4, accept_due=t4 + day,
           resolve_due=local(2026, 6, 10)),
        tk(5, local(2026, 6, 25), "waiting", "telegram", "new", accept_due=local(2026, 6, 26),
           resolve_due=local(2026, 7, 10)),
        tk(6, local(2026, 6, 29), "waiting", "web", "duplicate"),
        tk(7, local(2025, 12, 20), "attitude", "telegram", "closed",
           accepted=local(2025, 12, 20), accept_due=local(2025, 12, 21),
           closed=local(2026, 1, 5), resolve_due=local(2026, 1, 10), rating=5,
           rated=local(2026, 1, 6)),
        tk(8, local(2026, 6, 30, 23), "waiting", "telegram", "new",
           accept_due=local(2026, 7, 1, 12)),
    ])  # fmt: skip
    await session.flush()
    return {"urgent": b4.id}


# Hand-counted figures for 2026-H1.
EXPECTED = {
    "broadcasts_by_kind": {"campaign": 2, "staff": 1, "urgent": 1},  # b5 cancelled, b6 in H2
    "campaigns_by_item": {"tiem-chung": 2},
    "broadcasts_by_topic": {"vaccination": 2},
    "delivered": 7, "failed": 1, "blocked": 1,  # b1 3 + b2 1 + b3 1 + b4 2
    "residents_reached": 2, "groups_reached": 1,  # t1, z2; g1
    "delivered_by_area": {"TDP1": 6, "TDP2": 1},
    "messages_by_month": [(3, 0, 0), (0, 0, 0), (1, 1, 1), (0, 0, 0), (1, 0, 0), (2, 0, 0)],
    "urgent_minutes": 5.0,
    "residents_start": 1, "residents_end": 3, "subscribers_start": 1, "subscribers_end": 2,
    "active": 2, "by_channel_end": {"telegram": 1, "web": 1, "zalo_oa": 1},
    "by_area_end": {"TDP1": 2, "TDP2": 1}, "optouts": 1,
    "asked": 8, "answered": 4, "unanswered": 3, "red_flags": 1,
    "by_topic": {"vaccination": 3, "bhyt": 1, "emergency": 1},
    "unanswered_themes": [("other", 2), ("dengue", 1)],
    "reminders": {"vaccine": 2, "bhyt": 1},
    "received": 7, "by_category": {"waiting": 5, "attitude": 1, "hygiene": 1},
    "by_channel": {"telegram": 4, "web": 2, "zalo_oa": 1},
    "accepted": 4, "accepted_on_time": 3, "resolved": 3, "resolved_on_time": 2,
    "open_at_end": 3, "overdue_at_end": 1,
    "ratings": 4, "satisfied": 3,  # T1 5, T2 2, T3 4 (rated in April), T7 5 (filed in 2025)
    # (filed, ratings, satisfied) per month
    "feedback_by_month": [(1, 2, 2), (1, 1, 0), (1, 0, 0), (0, 1, 1), (1, 0, 0), (3, 0, 0)],
}
