"""Questions no library topic answered (issue 18): recorded for the console's grouping.

`record` is called where the matcher gives up (`bot.conversations.topics.answer_question`); the
row keeps the words (cut to `MAX_CHARS`), the chat to answer in and, for erasure of group
messages, the author's platform id. Rows are purged with the message log
(`database.message_log_retention_days`) and erased with the resident (`storage.erasure`).
Staff then mark them "library" (exported for the content maintainers) or "answered".
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import UnansweredQuestion

MAX_CHARS = 500
OPEN, LIBRARY, ANSWERED = "open", "library", "answered"
STATUSES = (OPEN, LIBRARY, ANSWERED)


async def record(session: AsyncSession, *, channel: str, chat_id: str, chat_kind: str,
                 user_id: str | None, locale: str, text: str, at: datetime,
                 station_id: int = 1) -> None:
    words = " ".join(text.split())[:MAX_CHARS]
    if not words:
        return
    session.add(UnansweredQuestion(
        station_id=station_id, channel=channel[:16], chat_id=chat_id[:64],
        chat_kind=chat_kind[:8], user_id=(user_id or None) and user_id[:64], locale=locale[:8],
        text=words, status=OPEN, created_at=at))


async def since(session: AsyncSession, start: datetime, *, stations: Collection[int] | None,
                statuses: Collection[str] = (OPEN,)) -> list[UnansweredQuestion]:
    """The questions asked from `start` on, oldest first, of `stations` (None: all)."""
    stmt = select(UnansweredQuestion).where(UnansweredQuestion.created_at >= start,
                                            UnansweredQuestion.status.in_(list(statuses)))
    if stations is not None:
        stmt = stmt.where(UnansweredQuestion.station_id.in_(list(stations)))
    return list((await session.execute(stmt.order_by(UnansweredQuestion.id))).scalars())


async def mark(session: AsyncSession, ids: Collection[int], status: str, *, by: str,
               at: datetime) -> None:
    await session.execute(update(UnansweredQuestion)
                          .where(UnansweredQuestion.id.in_(list(ids)))
                          .values(status=status, handled_by=by[:64], handled_at=at))


async def purge(session: AsyncSession, older_than: datetime) -> None:
    """Retention: with the message log."""
    await session.execute(delete(UnansweredQuestion)
                          .where(UnansweredQuestion.created_at < older_than))
