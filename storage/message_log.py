"""The message log and the processed-update marks: what was said in a chat, what was handled.

Part of ``storage.people`` (which re-exports these names): one exchange's log rows in one
statement, the latest messages of a chat, the retention purge, and the mark that makes a
redelivered update a no-op.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inbox import mark_statement
from storage.models import MessageLog, ProcessedUpdate, utcnow

# The inbox owns what the mark means ('received' -> 'handled'; a new key is 'done').
_MARK = {dialect: mark_statement(dialect) for dialect in ("postgresql", "sqlite")}


async def mark_processed(
    session: AsyncSession, channel: str, update_key: str, now: datetime | None = None
) -> bool:
    """Record an inbound update id; False when it was already handled (a redelivery).

    One `INSERT … ON CONFLICT DO UPDATE … WHERE status = 'received'` (both SQLite and PostgreSQL),
    so the mark costs a single round trip, shares the transaction of the handling it guards, and
    moves an inbox row (`storage.inbox`) from 'received' to 'handled'.
    """
    stmt = _MARK[session.get_bind().dialect.name]
    values = {"channel": channel, "update_key": update_key[:128], "created_at": now or utcnow(),
              "status": "done"}
    result = await (await session.connection()).execute(stmt, values)
    return bool(getattr(result, "rowcount", 0))


def log_entry(
    direction: str,
    text: str | None,
    payload: dict[str, Any] | None = None,
    topic: str | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    """One message-log row for `log_messages`; `user_id` is the author of an inbound message."""
    return {
        "direction": direction, "text": text, "payload": payload, "topic": topic,
        "user_id": user_id,
    }  # fmt: skip


async def log_messages(
    session: AsyncSession, channel: str, chat_id: str, entries: list[dict[str, Any]],
    station_id: int = 1,
) -> None:
    """Write one exchange's log rows in one statement (no ORM objects: nothing reads them back)."""
    if not entries:
        return
    now = utcnow()
    rows = [
        {**entry, "channel": channel, "chat_id": chat_id, "created_at": now,
         "station_id": station_id} for entry in entries
    ]
    await (await session.connection()).execute(insert(MessageLog.__table__), rows)


async def recent_messages(
    session: AsyncSession, channel: str, chat_id: str, limit: int = 50
) -> list[MessageLog]:
    stmt = (
        select(MessageLog)
        .where(MessageLog.channel == channel, MessageLog.chat_id == chat_id)
        .order_by(MessageLog.id.desc())
        .limit(limit)
    )
    return list(reversed((await session.execute(stmt)).scalars().all()))


async def purge_message_log(session: AsyncSession, older_than: datetime) -> int:
    """Retention: delete the message log and processed-update marks older than the cut-off."""
    result = await session.execute(delete(MessageLog).where(MessageLog.created_at < older_than))
    from storage.web import purge_web_messages

    await purge_web_messages(session, older_than)
    from storage.unanswered import purge as purge_unanswered

    await purge_unanswered(session, older_than)  # the console's unanswered questions (issue 18)
    await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.created_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
