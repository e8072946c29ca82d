"""The inbox: every inbound update is recorded before the platform is told it arrived.

The promise (issue 13.2, issue 19.2): an update a platform handed over is never lost and never
handled twice.

- `receive()` writes each update ('received', with its payload and chat) in one transaction; only
  after it committed does a poller ask for the next batch (Telegram's offset confirms the batch) or
  a webhook answer 200. A redelivered key is already there and is not returned again.
- The handling transaction (`HealthBot.handle(update_key=…)` → `people.mark_processed`) turns
  'received' into 'handled' and stores the replies to send (`keep_replies`), atomically with the
  resident's state; a crash before that commit leaves 'received', so the update is handled again.
- `finish()` marks 'done' once the replies went out and clears the payload and replies (they
  contain what residents wrote). A crash between sending and `finish()` resends those replies: the
  only duplicate allowed, the in-flight window.
- `claim_unfinished()` gives a (re)started worker its own unfinished rows at once and another
  worker's after `lease` (that worker died).

Rows live in `processed_updates` (the dedupe table the engine already wrote), so a key that was
handled before the inbox existed, or by a caller that sends its replies itself, is 'done'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate

RECEIVED, HANDLED, DONE, FAILED = "received", "handled", "done", "failed"
UNFINISHED = (RECEIVED, HANDLED)
_TABLE = ProcessedUpdate.__table__


@dataclass(frozen=True)
class InboxItem:
    """One recorded update, as the pump needs it."""

    id: int
    channel: str
    update_key: str
    chat_id: str
    payload: dict[str, Any]
    status: str
    replies: list[Any] | None = None
    attempts: int = 0


@dataclass(frozen=True)
class Arrival:
    """An update to record: its platform key, the chat it belongs to, and the raw payload."""

    update_key: str
    chat_id: str
    payload: dict[str, Any]


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: str) -> str:
    """PostgreSQL text refuses NUL characters, and no driver can encode a lone UTF-16 surrogate
    (JSON "\\ud83d" alone); only a forged or broken update carries them. One such update must
    not fail the whole batch it shares a transaction with."""
    return _LONE_SURROGATE.sub("\ufffd", value.replace("\x00", ""))


def _clean(value: Any) -> Any:
    """No lone surrogate in any string of a payload, keys included (NULs are kept: a JSON column
    takes them, and removing one could turn an id into the empty string)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_clean(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def receive(
    session: AsyncSession, channel: str, arrivals: list[Arrival], *, worker_id: str, now: datetime
) -> list[InboxItem]:
    """Record updates (one statement); returns the ones that were new, in the given order."""
    if not arrivals:
        return []
    arrivals = [Arrival(_text(a.update_key)[:128], _text(a.chat_id)[:64], _clean(a.payload))
                for a in arrivals]
    rows = [
        {"channel": channel, "update_key": a.update_key[:128], "chat_id": a.chat_id[:64],
         "payload": a.payload, "status": RECEIVED, "attempts": 0, "claimed_by": worker_id,
         "claimed_at": now, "created_at": now}
        for a in arrivals
    ]
    stmt = (
        _insert(session)(_TABLE).values(rows)
        .on_conflict_do_nothing(index_elements=["channel", "update_key"])
        .returning(_TABLE.c.id, _TABLE.c.update_key)
    )
    new = {key: row_id for row_id, key in (await session.execute(stmt)).all()}
    return [
        InboxItem(new[a.update_key[:128]], channel, a.update_key[:128], a.chat_id[:64], a.payload,
                  RECEIVED)
        for a in arrivals if a.update_key[:128] in new
    ]


def mark_statement(dialect: str) -> Any:
    """`HealthBot.handle`'s mark: a 'received' row becomes 'handled'; a new key is inserted 'done'
    (its caller sends the replies itself); an existing 'handled'/'done' key matches nothing, which
    tells the engine it is a redelivery (rowcount 0)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(_TABLE).on_conflict_do_update(
        index_elements=["channel", "update_key"],
        set_={"status": HANDLED},
        where=_TABLE.c.status == RECEIVED,
    )


async def keep_replies(
    session: AsyncSession, channel: str, update_key: str, replies: list[dict[str, Any]]
) -> None:
    """Store the replies of a 'handled' update in the handling's transaction (no-op otherwise)."""
    await session.execute(
        update(ProcessedUpdate)
        .where(ProcessedUpdate.channel == channel,
               ProcessedUpdate.update_key == update_key[:128],
               ProcessedUpdate.status == HANDLED)
        .values(replies=replies)
    )


async def finish(session: AsyncSession, item_ids: list[int], *, failed: bool = False) -> None:
    """The update is completely dealt with: forget what the resident wrote."""
    if item_ids:
        await session.execute(
            update(ProcessedUpdate).where(ProcessedUpdate.id.in_(item_ids))
            .values(status=FAILED if failed else DONE, payload=None, replies=None)
        )


async def count_attempt(session: AsyncSession, item_id: int) -> None:
    await session.execute(
        update(ProcessedUpdate).where(ProcessedUpdate.id == item_id)
        .values(attempts=ProcessedUpdate.attempts + 1)
    )


async def current(session: AsyncSession, item_id: int) -> InboxItem | None:
    """The row as stored now (its status and replies may have moved on since it was queued)."""
    row = await session.get(ProcessedUpdate, item_id, populate_existing=True)
    return _item(row) if row is not None else None


def _item(row: ProcessedUpdate) -> InboxItem:
    return InboxItem(row.id, row.channel, row.update_key, row.chat_id or "", row.payload or {},
                     row.status, row.replies, row.attempts)


async def claim_unfinished(
    session: AsyncSession, channel: str, *, worker_id: str, now: datetime, lease: timedelta,
    own_worker_id: str | None = None,
) -> list[InboxItem]:
    """Take over unfinished rows: this worker's own from before a restart (`own_worker_id`), and
    any whose claim is older than `lease`; returned oldest first."""
    stale = or_(ProcessedUpdate.claimed_at.is_(None), ProcessedUpdate.claimed_at < now - lease)
    if own_worker_id is not None:
        stale = or_(stale, ProcessedUpdate.claimed_by == own_worker_id)
    ids = (await session.execute(
        select(ProcessedUpdate.id).where(
            ProcessedUpdate.channel == channel, ProcessedUpdate.status.in_(UNFINISHED), stale)
        .order_by(ProcessedUpdate.id)
    )).scalars().all()
    if not ids:
        return []
    await session.execute(
        update(ProcessedUpdate).where(ProcessedUpdate.id.in_(ids), ProcessedUpdate.status.in_(UNFINISHED))
        .values(claimed_by=worker_id, claimed_at=now)
    )
    rows = (await session.execute(
        select(ProcessedUpdate).where(ProcessedUpdate.id.in_(ids)).order_by(ProcessedUpdate.id)
        .execution_options(populate_existing=True)
    )).scalars().all()
    return [_item(row) for row in rows if row.status in UNFINISHED]


async def unfinished_count(session: AsyncSession, channel: str | None = None) -> int:
    stmt = select(ProcessedUpdate.id).where(ProcessedUpdate.status.in_(UNFINISHED))
    if channel is not None:
        stmt = stmt.where(ProcessedUpdate.channel == channel)
    return len((await session.execute(stmt)).all())
