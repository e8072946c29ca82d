"""The periodic report's figures against a hand-counted half year (tests/report_seed.py)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.report.figures import compute, parse_period, period_between
from storage.db import open_database
from tests.report_seed import EXPECTED, TOPIC_OF, seed


async def h1_figures(db_url: str):  # noqa: ANN201
    db = open_database(db_url)
    async with db.sessions() as session, session.begin():
        ids = await seed(session)
    async with db.sessions() as session:
        first = await compute(session, parse_period("2026-H1"), topic_of=TOPIC_OF)
        again = await compute(session, parse_period("2026-H1"), topic_of=TOPIC_OF)
    await db.close()
    return first, again, ids


async def test_half_year_figures_match_the_hand_count(db_url: str) -> None:
    f, again, ids = await h1_figures(db_url)
    e = EXPECTED
    assert f.as_dict() == again.as_dict()  # the same period twice gives the same figures
    c = f.communication
    assert c.broadcasts_by_kind == e["broadcasts_by_kind"]
    assert c.campaigns_by_item == e["campaigns_by_item"]
    assert c.broadcasts_by_topic == e["broadcasts_by_topic"]
    assert (c.delivered, c.failed, c.blocked) == (e["delivered"], e["failed"], e["blocked"])
    assert (c.residents_reached, c.groups_reached) == (e["residents_reached"], e["groups_reached"])
    assert c.delivered_by_area == e["delivered_by_area"]
    assert [m.month for m, *_ in c.by_month] == [1, 2, 3, 4, 5, 6]
    assert [tuple(v) for _m, *v in c.by_month] == e["messages_by_month"]
    assert [(i, minutes) for i, _a, _d, minutes in c.urgent] == [(ids["urgent"],
                                                                  e["urgent_minutes"])]
    r = f.residents
    assert (r.residents_start, r.residents_end) == (e["residents_start"], e["residents_end"])
    assert (r.subscribers_start, r.subscribers_end) == (e["subscribers_start"],
                                                        e["subscribers_end"])
    assert r.active == e["active"]
    assert r.by_channel_end == e["by_channel_end"]
    assert r.by_area_end == e["by_area_end"]
    assert r.optouts == e["optouts"]
    q = f.questions
    assert (q.asked, q.answered, q.unanswered, q.red_flags) == (
        e["asked"], e["answered"], e["unanswered"], e["red_flags"])
    assert q.by_topic == e["by_topic"]
    assert q.unanswered_themes == e["unanswered_themes"]
    assert q.answered_share == pytest.approx(5 / 8)
    assert f.reminders.by_kind == e["reminders"]
    fb = f.feedback
    assert fb.received == e["received"]
    assert fb.by_category == e["by_category"]
    assert fb.by_channel == e["by_channel"]
    assert (fb.accepted, fb.accepted_on_time) == (e["accepted"], e["accepted_on_time"])
    assert (fb.resolved, fb.resolved_on_time) == (e["resolved"], e["resolved_on_time"])
    assert (fb.open_at_end, fb.overdue_at_end) == (e["open_at_end"], e["overdue_at_end"])
    assert (fb.satisfaction.ratings, fb.satisfaction.satisfied) == (e["ratings"], e["satisfied"])
    assert fb.target_met is False  # 75 % against the 90 % target
    assert [(n, s.ratings, s.satisfied) for _m, n, s in fb.by_month] == e["feedback_by_month"]


async def test_the_first_local_minutes_of_july_belong_to_h2(db_url: str) -> None:
    db = open_database(db_url)
    async with db.sessions() as session, session.begin():
        await seed(session)
    async with db.sessions() as session:
        h2 = await compute(session, parse_period("2026-H2"), topic_of=TOPIC_OF)
    await db.close()
    assert h2.questions.asked == 1 and h2.communication.broadcasts_by_kind == {"campaign": 1}
    assert h2.residents.residents_start == 3 and h2.residents.residents_end == 4
    assert h2.feedback.received == 0 and h2.feedback.open_at_end == 3


def test_periods() -> None:
    assert parse_period("2026-H1").end == date(2026, 7, 1)
    assert parse_period("2026-h2").next().slug == "2027-H1"
    assert parse_period("2026").last_day == date(2026, 12, 31)
    assert period_between(date(2026, 3, 1), date(2026, 3, 31)).end == date(2026, 4, 1)
    with pytest.raises(ValueError):
        parse_period("2026-Q1")


async def test_the_bot_records_questions_and_opt_outs_without_their_words(healthbot,
                                                                          clock) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from storage.models import ReportFact
    from tests.transcript import Transcript

    chat = Transcript(healthbot)
    await chat.say("sot xuat huyet co lay khong")  # answered: dengue
    await chat.say("giá vàng hôm nay bao nhiêu")  # unanswered
    await chat.say("con tôi đang co giật")  # red flag
    await chat.say("/theodoi")
    await chat.tap("sub:dengue")
    await chat.say("/huy")  # opt-out of all news
    async with healthbot.services.db.sessions() as session:
        facts = (await session.execute(select(ReportFact).order_by(ReportFact.id))).scalars().all()
        period = period_between(clock().date(), clock().date())
        figures = await compute(session, period)
    assert [(f.kind, f.outcome) for f in facts] == [
        ("question", "answered"), ("question", "unanswered"), ("question", "red_flag"),
        ("optout", None)]
    assert facts[0].topic == "dengue"
    assert all("vàng" not in (f.topic or "") for f in facts)  # never the words
    q = figures.questions
    assert (q.asked, q.answered, q.unanswered, q.red_flags) == (3, 1, 1, 1)
    assert figures.residents.optouts == 1


async def test_station_reports_add_up_to_the_province(db_url: str) -> None:
    """Issue 21: each station's report counts only its rows; together they make the province's."""
    from sqlalchemy import update

    from storage.models import Outbox, ReportFact, Ticket

    db = open_database(db_url)
    async with db.sessions() as session, session.begin():
        await seed(session)
        # Every other question, ticket and delivery belongs to a second station.
        for model in (ReportFact, Ticket, Outbox):
            await session.execute(update(model).where(model.id % 2 == 0).values(station_id=2))
    period = parse_period("2026-H1")
    async with db.sessions() as session:
        province = await compute(session, period, topic_of=TOPIC_OF)
        first = await compute(session, period, station_id=1, topic_of=TOPIC_OF)
        second = await compute(session, period, station_id=2, topic_of=TOPIC_OF)
    await db.close()

    def additive(f):  # noqa: ANN001, ANN202
        q, fb, c = f.questions, f.feedback, f.communication
        return (q.asked, q.answered, q.unanswered, q.red_flags, fb.received, fb.resolved,
                c.delivered, c.failed, c.blocked)

    assert province.questions.asked == EXPECTED["asked"]
    assert all(n > 0 for n in additive(first)[:1] + additive(second)[:1]), "both stations asked"
    assert first.feedback.received > 0 and second.feedback.received > 0
    assert [a + b for a, b in zip(additive(first), additive(second), strict=True)] == list(
        additive(province))
