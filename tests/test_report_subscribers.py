"""Subscribers at the start and the end of a period count the subscriptions that ended since
(issue 17): a topic removed, /huy, or an erasure keeps an `ended_subscriptions` row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.i18n import TIMEZONE
from bot.report.figures import parse_period, period_between, residents
from storage import people
from storage.db import open_database
from storage.erasure import erase_person
from storage.models import EndedSubscription, Person, Subscription
from tests.report_seed import local, seed


async def test_a_subscription_that_ended_in_the_period_counts_at_its_start(settings) -> None:  # noqa: ANN001
    db = open_database(settings.database.url)
    async with db.sessions() as session, session.begin():
        await seed(session)  # hand-counted: 1 subscriber at 1/1/2026, 2 at 1/7/2026
        p5 = Person(area_code="TDP2")
        session.add(p5)
        await session.flush()
        # Followed vaccination from 1/11/2025 and left on 15/3/2026, in the period.
        session.add(EndedSubscription(person_key=p5.id, topic="vaccination",
                                      started_at=local(2025, 11, 1),
                                      ended_at=local(2026, 3, 15)))
    async with db.sessions() as session:
        r = await residents(session, parse_period("2026-H1"))
        assert (r.subscribers_start, r.subscribers_end) == (2, 2)  # p1 + p5, then p1 + p2
        r = await residents(session, period_between(local(2026, 3, 16).date(),
                                                    local(2026, 6, 1).date()))
        assert r.subscribers_start == 2  # p1, p2: p5 had left
    await db.close()


async def test_removing_a_topic_and_erasure_keep_the_past_counts(settings) -> None:  # noqa: ANN001
    db = open_database(settings.database.url)
    now = datetime.now(UTC)
    began = now - timedelta(days=40)
    async with db.sessions() as session, session.begin():
        leaver, erased = Person(), Person()
        session.add_all([leaver, erased])
        await session.flush()
        session.add_all([
            Subscription(person_id=leaver.id, topic="dengue", created_at=began),
            Subscription(person_id=erased.id, topic="dengue", created_at=began),
            Subscription(person_id=erased.id, topic="vaccination", created_at=began),
        ])
    async with db.sessions() as session, session.begin():
        await people.unsubscribe(session, leaver.id, "dengue")  # through the bot's own path
        await erase_person(session, erased.id)
    first = (began + timedelta(days=1)).astimezone(TIMEZONE).date()
    last = (now + timedelta(days=1)).astimezone(TIMEZONE).date()
    async with db.sessions() as session:
        r = await residents(session, period_between(first, last))
        # Both followed at the start (the erased one once, not once per topic); none at the end.
        assert (r.subscribers_start, r.subscribers_end) == (2, 0)
        keys = (await session.execute(select(EndedSubscription.person_key))).scalars().all()
        assert leaver.id in keys and erased.id not in keys and any(k < 0 for k in keys)
    await db.close()
