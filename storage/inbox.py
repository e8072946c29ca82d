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
- Per-chat order across workers (several `healthbot run` behind a load balancer, issue 21): a row
  is handled only by the worker that claimed it with `take_next()`, and only the OLDEST unfinished
  row of its channel+chat (the chat's head) can be claimed, and only while nobody holds it (its
  claim is empty, this worker's own, or older than `lease`: its holder died). The worker that
  finishes a row claims the chat's next one (the hand-over); the worker that received a row tries
  too. The races are reasoned out at `take_next()` and in docs/inbox.md.
- `renew()` keeps a live worker's claims fresh (a heartbeat well within the lease); `release()`
  gives them up on a clean stop; `claimable_chats()` finds heads nobody is working on (a dead
  worker's, or a row whose receiver died before it tried to claim it).

Rows live in `processed_updates` (the dedupe table the engine already wrote), so a key that was
handled before the inbox existed, or by a caller that sends its replies itself, is 'done'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
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
    """Record updates (one statement); returns the ones that were new, in the given order.

    Rows are stored unclaimed: whoever handles one claims it with `take_next()` once it is its
    chat's head (`worker_id` is kept for the callers' symmetry)."""
    if not arrivals:
        return []
    arrivals = [Arrival(_text(a.update_key)[:128], _text(a.chat_id)[:64], _clean(a.payload))
                for a in arrivals]
    rows = [
        {"channel": channel, "update_key": a.update_key[:128], "chat_id": a.chat_id[:64],
         "payload": a.payload, "status": RECEIVED, "attempts": 0, "claimed_by": None,
         "claimed_at": None, "created_at": now}
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


def _claimable(worker_id: str, now: datetime, lease: timedelta) -> Any:
    """Nobody works on the row: never claimed, claimed by this worker (before a restart with the
    same id, or by this very runner), or its holder has not renewed the claim within `lease`."""
    return or_(ProcessedUpdate.claimed_by.is_(None), ProcessedUpdate.claimed_by == worker_id,
               ProcessedUpdate.claimed_at.is_(None), ProcessedUpdate.claimed_at < now - lease)


async def take_next(
    session: AsyncSession, channel: str, chat_id: str, *, worker_id: str, now: datetime,
    lease: timedelta,
) -> InboxItem | None:
    """Claim the chat's head (its oldest unfinished row) if nobody works on it; None otherwise.

    One statement: UPDATE … WHERE id = (oldest unfinished of the chat) AND unfinished AND
    claimable RETURNING. Why two workers never handle one chat at once, nor out of order:
    - Only the head can be claimed, and the head changes only when its row is finished, which its
      holder commits after the replies went out. So the next row is handled after the previous
      one's replies were sent, whichever worker does it.
    - Two workers claiming the same head: on PostgreSQL the second UPDATE waits for the first's
      row lock and re-checks its WHERE on the committed row (READ COMMITTED), which is then held
      by the first: it matches nothing. SQLite has one writer, so the statements do not overlap.
    - A row received while the chat's previous row is being finished (the race of the hand-over):
      the receiver commits its row, THEN tries `take_next`. If that try still saw the previous
      row unfinished, its snapshot predates the finish's commit, so the row it inserted was
      committed before the finish, and the finisher's `take_next` (started after its finish
      committed) sees it. Either the receiver or the finisher claims it, or both try and exactly
      one wins; it is never left to nobody (and the sweep would find it anyway).
    The subquery reads through an alias, so it is not correlated with the row being updated.
    """
    head_row = _TABLE.alias("head")
    head = (
        select(func.min(head_row.c.id))
        .where(head_row.c.channel == channel, head_row.c.chat_id == chat_id[:64],
               head_row.c.status.in_(UNFINISHED))
        .scalar_subquery()
    )
    row = (await session.execute(
        update(ProcessedUpdate)
        .where(ProcessedUpdate.id == head, ProcessedUpdate.status.in_(UNFINISHED),
               _claimable(worker_id, now, lease))
        .values(claimed_by=worker_id, claimed_at=now)
        .returning(ProcessedUpdate.id, ProcessedUpdate.channel, ProcessedUpdate.update_key,
                   ProcessedUpdate.chat_id, ProcessedUpdate.payload, ProcessedUpdate.status,
                   ProcessedUpdate.replies, ProcessedUpdate.attempts)
        .execution_options(synchronize_session=False)
    )).first()
    if row is None:
        return None
    return InboxItem(row.id, row.channel, row.update_key, row.chat_id or "", row.payload or {},
                     row.status, row.replies, row.attempts)


async def claimable_chats(
    session: AsyncSession, channel: str, *, worker_id: str, now: datetime, lease: timedelta,
) -> list[str]:
    """Chats whose head nobody works on (see `_claimable`), oldest head first."""
    heads = (
        select(func.min(ProcessedUpdate.id).label("id"))
        .where(ProcessedUpdate.channel == channel, ProcessedUpdate.status.in_(UNFINISHED))
        .group_by(ProcessedUpdate.chat_id)
        .subquery("heads")
    )
    rows = (await session.execute(
        select(ProcessedUpdate.chat_id)
        .join(heads, heads.c.id == ProcessedUpdate.id)
        .where(ProcessedUpdate.status.in_(UNFINISHED), _claimable(worker_id, now, lease))
        .order_by(ProcessedUpdate.id)
    )).scalars().all()
    return [chat or "" for chat in rows]


async def renew(session: AsyncSession, channel: str, *, worker_id: str, now: datetime) -> None:
    """The heartbeat: this worker still works on the rows it claimed."""
    await session.execute(
        update(ProcessedUpdate)
        .where(ProcessedUpdate.channel == channel, ProcessedUpdate.claimed_by == worker_id,
               ProcessedUpdate.status.in_(UNFINISHED))
        .values(claimed_at=now)
    )


async def release(session: AsyncSession, channel: str, *, worker_id: str) -> None:
    """A clean stop: the rows this worker claimed are free for the others' next sweep."""
    await session.execute(
        update(ProcessedUpdate)
        .where(ProcessedUpdate.channel == channel, ProcessedUpdate.claimed_by == worker_id,
               ProcessedUpdate.status.in_(UNFINISHED))
        .values(claimed_by=None, claimed_at=None)
    )


async def still_unfinished(session: AsyncSession, item_ids: list[int]) -> set[int]:
    """Which of these rows are not finished yet (by anyone)."""
    if not item_ids:
        return set()
    return set((await session.execute(
        select(ProcessedUpdate.id).where(ProcessedUpdate.id.in_(item_ids),
                                         ProcessedUpdate.status.in_(UNFINISHED))
    )).scalars().all())


async def unfinished_count(session: AsyncSession, channel: str | None = None) -> int:
    stmt = select(ProcessedUpdate.id).where(ProcessedUpdate.status.in_(UNFINISHED))
    if channel is not None:
        stmt = stmt.where(ProcessedUpdate.channel == channel)
    return len((await session.execute(stmt)).all())
