"""The outbox: anything sent outside a direct reply is first written here, then dispatched.

`enqueue` is idempotent on the dedupe key (a second enqueue of the same key is a no-op), so a
restart, a misfire or two instances never queue a message twice. Priorities: 0 replies and staff
notifications, 3 personal reminders, 5 staff broadcasts, 9 plan campaigns (lower goes first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Outbox, utcnow

PRIORITY_REPLY = 0
PRIORITY_STAFF = 0
PRIORITY_URGENT = 1  # urgent alerts: before everything except direct replies
PRIORITY_REMINDER = 3
PRIORITY_BROADCAST = 5
PRIORITY_CAMPAIGN = 9


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    channel: str,
    chat_id: str,
    payload: dict[str, Any],
    chat_kind: str = "private",
    priority: int = PRIORITY_BROADCAST,
    urgent: bool = False,
    not_before: datetime | None = None,
    broadcast_id: int | None = None,
    campaign_id: str | None = None,
    ticket_id: int | None = None,
    status: str = "pending",
) -> bool:
    """Queue one message; False when this dedupe key was queued before (nothing changes).

    ``status="held"`` queues it for later release (a broadcast waiting for its approver).
    """
    existing = await session.execute(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key))
    if existing.scalar_one_or_none() is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(
                Outbox(
                    dedupe_key=dedupe_key[:191],
                    channel=channel,
                    chat_id=chat_id,
                    chat_kind=chat_kind,
                    payload=payload,
                    priority=priority,
                    urgent=urgent,
                    not_before=not_before or utcnow(),
                    broadcast_id=broadcast_id,
                    campaign_id=campaign_id,
                    ticket_id=ticket_id,
                    status=status,
                )
            )
            await session.flush()
    except IntegrityError:
        return False
    return True


# --- Dispatching: claim, record, release (used by scheduler.dispatcher) -----------------------

STATUS_PENDING = "pending"
STATUS_SENDING = "sending"
STATUS_SENT = "sent"
STATUS_FAILED = "failed"
STATUS_CANCELLED = "cancelled"
STATUS_HELD = "held"  # waiting for an approver; never claimed


@dataclass(frozen=True)
class ClaimedMessage:
    """One outbox row a dispatcher has claimed (a plain copy: no session attached)."""

    id: int
    channel: str
    chat_id: str
    chat_kind: str
    priority: int
    urgent: bool
    payload: dict[str, Any]
    attempts: int
    dedupe_key: str


async def claim_due(
    session: AsyncSession,
    *,
    worker_id: str,
    now: datetime,
    limit: int,
    channels: Iterable[str],
) -> list[ClaimedMessage]:
    """Claim up to ``limit`` due rows, most urgent priority first, and mark them 'sending'.

    PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` inside the caller's transaction, so rows
    another worker is claiming are skipped, never shared. SQLite drops the locking clause: run a
    single dispatcher there (the status check in the same transaction still guards a redelivery).
    """
    stmt = (
        select(Outbox)
        .where(
            Outbox.status == STATUS_PENDING,
            Outbox.not_before <= now,
            Outbox.channel.in_(list(channels)),
        )
        .order_by(Outbox.priority, Outbox.not_before, Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.execute(stmt)).scalars().all()
    claimed = []
    for row in rows:
        row.status = STATUS_SENDING
        row.claimed_by = worker_id[:64]
        row.claimed_at = now
        claimed.append(
            ClaimedMessage(
                row.id, row.channel, row.chat_id, row.chat_kind, row.priority, row.urgent,
                row.payload, row.attempts, row.dedupe_key,
            )
        )
    await session.flush()
    return claimed


async def reclaim_stale(
    session: AsyncSession,
    *,
    now: datetime,
    lease: timedelta,
    own_worker_id: str | None = None,
    keep: Iterable[int] = (),
) -> int:
    """Put rows stuck in 'sending' longer than ``lease`` (their worker died) back to 'pending';
    with ``own_worker_id``, also this worker's own rows at once (its previous process died).

    The dead worker may have sent some of them just before it died: those are sent again (the
    at-least-once window, see docs/broadcast.md). One attempt is counted for the lost try.
    Rows in ``keep`` are never taken back: the live caller still holds them (their outcome is
    waiting to be recorded after a database blip).
    """
    stale = Outbox.claimed_at < now - lease
    if own_worker_id is not None:
        stale = or_(stale, Outbox.claimed_by == own_worker_id[:64])
    if kept := list(keep):
        stale = stale & Outbox.id.not_in(kept)
    result = await session.execute(
        update(Outbox)
        .where(Outbox.status == STATUS_SENDING, stale)
        .values(
            status=STATUS_PENDING,
            claimed_by=None,
            claimed_at=None,
            attempts=Outbox.attempts + 1,
            last_error="reclaimed: the claiming worker stopped before recording a result",
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed row; ``status`` pending means try again at ``not_before``."""

    id: int
    status: str
    attempts: int
    last_error: str | None = None
    sent_at: datetime | None = None
    sent_message_id: str | None = None
    not_before: datetime | None = None
    chat_id: str | None = None  # set when the chat moved (group migration)


async def record_outcomes(session: AsyncSession, worker_id: str, outcomes: list[Outcome]) -> int:
    """Write many outcomes in one statement batch; only rows this worker still holds change."""
    table = Outbox.__table__
    stmt = (
        table.update()
        .where(
            table.c.id == bindparam("b_id"),
            table.c.claimed_by == bindparam("b_worker"),
            table.c.status == STATUS_SENDING,
        )
        .values(
            status=bindparam("b_status"),
            attempts=bindparam("b_attempts"),
            last_error=bindparam("b_error"),
            sent_at=bindparam("b_sent_at"),
            sent_message_id=bindparam("b_message_id"),
            not_before=func.coalesce(bindparam("b_not_before", type_=Outbox.not_before.type),
                                     table.c.not_before),
            chat_id=func.coalesce(bindparam("b_chat_id", type_=String()), table.c.chat_id),
            claimed_by=bindparam("b_claimed_by"),
        )
    )
    params = [
        {
            "b_id": o.id,
            "b_worker": worker_id[:64],
            "b_status": o.status,
            "b_attempts": o.attempts,
            "b_error": o.last_error[:255] if o.last_error else None,
            "b_sent_at": o.sent_at,
            "b_message_id": o.sent_message_id[:64] if o.sent_message_id else None,
            "b_not_before": o.not_before,
            "b_chat_id": o.chat_id,
            "b_claimed_by": worker_id[:64] if o.status != STATUS_PENDING else None,
        }
        for o in outcomes
    ]
    if not params:
        return 0
    result = await session.execute(stmt, params)
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_finished(session: AsyncSession, older_than: datetime) -> int:
    """Retention: delete rows that are done (sent, failed, cancelled) and older than the cut-off."""
    result = await session.execute(
        delete(Outbox).where(
            Outbox.status.in_((STATUS_SENT, STATUS_FAILED, STATUS_CANCELLED)),
            Outbox.created_at < older_than,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def reroute_chat(session: AsyncSession, channel: str, old_id: str, new_id: str) -> int:
    """A group moved (became a supergroup): its waiting messages follow it."""
    result = await session.execute(
        update(Outbox)
        .where(
            Outbox.channel == channel,
            Outbox.chat_id == old_id,
            Outbox.status.in_((STATUS_PENDING, STATUS_HELD)),
        )
        .values(chat_id=new_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def set_broadcast_status(
    session: AsyncSession, broadcast_id: int, *, from_statuses: tuple[str, ...], to: str
) -> int:
    """Move a broadcast's rows between statuses: release held rows, cancel pending ones."""
    result = await session.execute(
        update(Outbox)
        .where(Outbox.broadcast_id == broadcast_id, Outbox.status.in_(from_statuses))
        .values(status=to)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def status_counts(
    session: AsyncSession, *, broadcast_id: int | None = None, campaign_id: str | None = None
) -> dict[str, int]:
    """How many rows are in each status (for reports), optionally for one broadcast/campaign."""
    stmt = select(Outbox.status, func.count()).group_by(Outbox.status)
    if broadcast_id is not None:
        stmt = stmt.where(Outbox.broadcast_id == broadcast_id)
    if campaign_id is not None:
        stmt = stmt.where(Outbox.campaign_id == campaign_id)
    return {status: int(n) for status, n in (await session.execute(stmt)).all()}
