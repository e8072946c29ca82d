"""The satisfaction survey (issue 20): the rate computed as docs/satisfaction.md says, checked
against a hand computation; resuming an unfinished survey; asked at most once per interval;
answers kept apart from who gave them. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.model import TELEGRAM
from storage import survey
from storage.models import SurveyInvitation, SurveyResponse
from tests.transcript import Transcript

# Four completed surveys, by hand (A..E):
#   R1: 5 4 3 5 4  -> 4 of 5 answers are 4 or 5     sum 21
#   R2: 4 4 4 4 4  -> 5 of 5 (every answer 4 or 5)   sum 20
#   R3: 2 3 5 5 5  -> 3 of 5                         sum 20
#   R4: 5 5 5 5 5  -> 5 of 5 (every answer 4 or 5)   sum 25
# rate = 17 / 20 = 85 % (below the 90 % target); mean = 86 / 20 = 4.3; all satisfied: 2 of 4;
# per question: A 3/4, B 3/4, C 3/4, D 4/4, E 4/4.
SEEDED = [
    {"A": 5, "B": 4, "C": 3, "D": 5, "E": 4},
    {"A": 4, "B": 4, "C": 4, "D": 4, "E": 4},
    {"A": 2, "B": 3, "C": 5, "D": 5, "E": 5},
    {"A": 5, "B": 5, "C": 5, "D": 5, "E": 5},
]


def test_rate_matches_the_hand_computation() -> None:
    figures = survey.compute(SEEDED)
    assert (figures.responses, figures.answers, figures.satisfied) == (4, 20, 17)
    assert figures.rate == 0.85 and not figures.meets_target
    assert figures.mean == 4.3 and figures.all_satisfied == 2
    assert figures.by_question == {"A": 0.75, "B": 0.75, "C": 0.75, "D": 1.0, "E": 1.0}
    assert survey.compute([{"A": 5, "B": 4}] * 9 + [{"A": 3, "B": 4}]).meets_target  # 19/20


async def test_period_counts_only_completed_surveys_in_it(healthbot) -> None:  # noqa: ANN001
    inside, outside = datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC)
    async with healthbot.services.db.sessions() as session, session.begin():
        for answers in SEEDED:
            session.add(SurveyResponse(trigger="checkup", answers=answers, created_at=inside,
                                       completed_at=inside))
        session.add(SurveyResponse(trigger="request", answers={"A": 1}, created_at=inside))  # open
        session.add(SurveyResponse(trigger="request", answers={"A": 1, "B": 1, "C": 1, "D": 1,
                                                               "E": 1},
                                   created_at=outside, completed_at=outside))
    async with healthbot.services.db.sessions() as session:
        figures = await survey.satisfaction(session, datetime(2026, 10, 1, tzinfo=UTC),
                                            datetime(2026, 11, 1, tzinfo=UTC))
    assert figures == survey.compute(SEEDED)


async def test_resumes_where_it_stopped_and_asks_once_per_interval(healthbot, clock) -> None:  # noqa: ANN001
    chat = Transcript(healthbot, TELEGRAM, "telegram", "8801")
    await chat.say("/danhgia")
    assert "5 câu hỏi ngắn" in chat.text and "Câu 1/5" in chat.text
    assert [b.label for b in chat.buttons()] == [
        "5 – Rất hài lòng", "4 – Hài lòng", "3 – Bình thường", "2 – Không hài lòng",
        "1 – Rất không hài lòng"]  # one big button per row
    assert all(len(row) == 1 for r in chat.replies for row in r.buttons)
    await chat.tap("4 – Hài lòng")
    await chat.tap("2 – Không hài lòng")
    await chat.say("/menu")  # wanders off
    await chat.say("/danhgia")
    assert "Câu 3/5" in chat.text and "Cơ sở vật chất" in chat.text
    for label in ("3 – Bình thường", "5 – Rất hài lòng", "5 – Rất hài lòng"):
        await chat.tap(label)
    assert "Cảm ơn bác/anh/chị!" in chat.text
    await chat.send(button="sv:a:E:1")  # an old button tapped again changes nothing
    assert "đã kết thúc" in chat.text
    async with healthbot.services.db.sessions() as session:
        (response,) = (await session.execute(select(SurveyResponse))).scalars()
    assert response.answers == {"A": 4, "B": 2, "C": 3, "D": 5, "E": 5}

    await chat.say("/danhgia")  # asked again too soon
    assert "180 ngày" in chat.text and "Câu" not in chat.text
    clock.advance(days=181)
    await chat.say("/danhgia")
    assert "Câu 1/5" in chat.text
    async with healthbot.services.db.sessions() as session:
        invitations = list((await session.execute(select(SurveyInvitation))).scalars())
    assert len(invitations) == 2 and invitations[0].finished and invitations[1].response_id
