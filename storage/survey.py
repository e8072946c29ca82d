"""The satisfaction survey's storage: anonymous answers, who was asked, and the period's figures.

Answers live in `survey_responses` with no person, chat or platform id. `survey_invitations`
records that a person was asked (the once-per-interval rule); it points at the response only while
the survey is unfinished (so it can be resumed) and lets go of it when the last answer is in.
The figures (`satisfaction`) follow docs/satisfaction.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SurveyInvitation, SurveyResponse

SATISFIED = (4, 5)  # "satisfied" and "very satisfied" on the 1-5 scale
TARGET_RATE = 0.90  # the ward plans' target: at least 90 % satisfied


async def latest_invitation(
    session: AsyncSession, person_id: int, since: datetime
) -> SurveyInvitation | None:
    return (await session.execute(
        select(SurveyInvitation)
        .where(SurveyInvitation.person_id == person_id, SurveyInvitation.asked_at >= since)
        .order_by(SurveyInvitation.asked_at.desc(), SurveyInvitation.id.desc()).limit(1)
    )).scalars().first()  # fmt: skip


async def may_ask(session: AsyncSession, person_id: int, now: datetime, interval_days: int) -> bool:
    """True when the person was not asked within the interval."""
    since = now - timedelta(days=interval_days)
    return await latest_invitation(session, person_id, since) is None


async def invite(session: AsyncSession, person_id: int, now: datetime,
                 station_id: int = 1) -> SurveyInvitation:
    row = SurveyInvitation(person_id=person_id, asked_at=now, finished=False,
                           station_id=station_id)
    session.add(row)
    await session.flush()
    return row


async def start(
    session: AsyncSession, invitation: SurveyInvitation, trigger: str, now: datetime
) -> SurveyResponse:
    # The response belongs to the invitation's station (a station's rate counts its residents).
    response = SurveyResponse(trigger=trigger, answers={}, created_at=now,
                              station_id=invitation.station_id or 1)
    session.add(response)
    await session.flush()
    invitation.response_id = response.id
    await session.flush()
    return response


async def answer(
    session: AsyncSession, invitation: SurveyInvitation, question: str, score: int,
    last: bool, now: datetime,
) -> SurveyResponse | None:
    """Record one answer of the invitation's open response; `last` finishes it and unlinks it."""
    if invitation.response_id is None or not 1 <= score <= 5:
        return None
    response = await session.get(SurveyResponse, invitation.response_id)
    if response is None:
        return None
    response.answers = {**response.answers, question: score}
    if last:
        response.completed_at = now
        invitation.response_id = None
        invitation.finished = True
    await session.flush()
    return response


async def open_response(session: AsyncSession, invitation: SurveyInvitation) -> SurveyResponse | None:
    if invitation.response_id is None:
        return None
    return await session.get(SurveyResponse, invitation.response_id)


@dataclass(frozen=True)
class Satisfaction:
    """A period's figures (see docs/satisfaction.md for the method and its source)."""

    responses: int  # completed surveys
    answers: int  # answered questions in them
    satisfied: int  # answers scored 4 or 5
    rate: float | None  # satisfied / answers
    by_question: dict[str, float]  # the same rate per question
    mean: float | None  # mean score of all answers
    all_satisfied: int  # completed surveys with every answer 4 or 5
    target: float = TARGET_RATE

    @property
    def meets_target(self) -> bool:
        return self.rate is not None and self.rate >= self.target


def compute(answer_sets: list[dict[str, int]]) -> Satisfaction:
    """The figures for completed surveys' answers (pure: the hand-computed test checks it)."""
    scores = [s for answers in answer_sets for s in answers.values()]
    per_question: dict[str, list[int]] = {}
    for answers in answer_sets:
        for q, s in answers.items():
            per_question.setdefault(q, []).append(s)
    satisfied = sum(1 for s in scores if s in SATISFIED)
    return Satisfaction(
        responses=len(answer_sets), answers=len(scores), satisfied=satisfied,
        rate=satisfied / len(scores) if scores else None,
        by_question={q: sum(1 for s in v if s in SATISFIED) / len(v)
                     for q, v in sorted(per_question.items())},
        mean=sum(scores) / len(scores) if scores else None,
        all_satisfied=sum(1 for a in answer_sets if a and all(s in SATISFIED for s in a.values())),
    )  # fmt: skip


async def satisfaction(
    session: AsyncSession, start_at: datetime, end_at: datetime, station_id: int | None = 1
) -> Satisfaction:
    """Completed surveys finished in [start_at, end_at) (`station_id=None`: every station)."""
    stmt = select(SurveyResponse.answers).where(
        SurveyResponse.completed_at.is_not(None),
        SurveyResponse.completed_at >= start_at, SurveyResponse.completed_at < end_at)
    if station_id is not None:
        stmt = stmt.where(SurveyResponse.station_id == station_id)
    rows = (await session.execute(stmt)).scalars().all()
    return compute([{k: int(v) for k, v in a.items()} for a in rows])
