"""Facts the periodic report counts that nothing else records (issue 17, migration 0007).

A question asked: its outcome ("answered", "unanswered", "red_flag"), the channel and the topic
(for an unanswered question: the topic the matcher found closest, if any; never the words). An
opt-out: the channel and the topic left ("*" for all). No person, chat or text is stored, so the
rows carry no personal data, need no erasure and are kept for the yearly report.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ReportFact

QUESTION = "question"
OPTOUT = "optout"
ANSWERED, UNANSWERED, RED_FLAG = "answered", "unanswered", "red_flag"


async def record(session: AsyncSession, kind: str, *, channel: str, at: datetime,
                 topic: str | None = None, outcome: str | None = None,
                 area_code: str | None = None, station_id: int = 1) -> None:
    session.add(ReportFact(kind=kind, channel=channel[:16], topic=(topic or None) and topic[:64],
                           outcome=outcome, area_code=area_code, station_id=station_id,
                           created_at=at))
